package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// BreakGlassRequest is the body of POST /v1/access/break-glass.
type BreakGlassRequest struct {
	StudentID string `json:"student_id"`
	// ReasonCode is medical_emergency, continuity_of_care, investigation
	// or other.
	ReasonCode string `json:"reason_code"`
	Reason     string `json:"reason"`
	// Minutes the grant lasts; the configured default (60) when zero.
	Minutes int `json:"minutes,omitempty"`
}

// BreakGlassGrant is one emergency-access grant.
type BreakGlassGrant struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	StudentID  string    `json:"student_id"`
	ReasonCode string    `json:"reason_code"`
	Reason     string    `json:"reason"`
	OpenedAt   time.Time `json:"opened_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Active     bool      `json:"active"`
	Position   uint64    `json:"position,omitempty"`
}

// BreakGlassList is the answer of GET /v1/access/break-glass.
type BreakGlassList struct {
	Grants []BreakGlassGrant `json:"grants"`
}

func (h handlers) breakGlassRoutes() []Route {
	return []Route{
		{Method: http.MethodPost, Path: "/v1/access/break-glass",
			Summary: "Open emergency access to one student outside the caller's scope",
			Access:  Access{Capability: auth.OpenBreakGlass}, Request: BreakGlassRequest{},
			Response: BreakGlassGrant{}, Status: http.StatusCreated, Handler: h.openBreakGlass},
		{Method: http.MethodGet, Path: "/v1/access/break-glass", Summary: "Open and past emergency-access grants",
			Access: Access{Capability: auth.ReviewBreakGlass}, Response: BreakGlassList{}, Handler: h.listBreakGlass},
	}
}

func (h handlers) openBreakGlass(c echo.Context) error {
	var req BreakGlassRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.Minutes < 0 {
		return ValidationError{Fields: []FieldError{{Field: "minutes", Reason: "must not be negative"}}}
	}
	g, res, err := h.Accounts.OpenBreakGlass(c.Request().Context(), principal(c), meta(c),
		req.StudentID, domain.BreakGlassReason(req.ReasonCode), req.Reason, time.Duration(req.Minutes)*time.Minute)
	if err != nil {
		return fromCommand(err)
	}
	out := h.grant(g)
	out.Position = res.Position
	return c.JSON(http.StatusCreated, out)
}

func (h handlers) listBreakGlass(c echo.Context) error {
	grants, err := h.Accounts.BreakGlassGrants(c.Request().Context(), h.Log)
	if err != nil {
		return err
	}
	out := BreakGlassList{Grants: make([]BreakGlassGrant, 0, len(grants))}
	for _, g := range grants {
		out.Grants = append(out.Grants, h.grant(g))
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) grant(g *domain.BreakGlassGrant) BreakGlassGrant {
	return BreakGlassGrant{
		ID: g.ID, UserID: g.UserID, StudentID: g.StudentID, ReasonCode: string(g.ReasonCode), Reason: g.Reason,
		OpenedAt: g.OpenedAt, ExpiresAt: g.ExpiresAt, Active: g.ActiveAt(h.Now()),
	}
}
