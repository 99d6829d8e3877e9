package readapi

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// CreateUserRequest is the body of POST /v1/users.
type CreateUserRequest struct {
	Email       string        `json:"email"`
	DisplayName string        `json:"display_name"`
	Roles       []domain.Role `json:"roles"`
	Schools     []string      `json:"schools,omitempty"`
	District    string        `json:"district,omitempty"`
	// Password is required: it follows the password policy.
	Password string `json:"password"`
}

// UserResponse is an account as administrators see it: never its password
// hash or second-factor secret.
type UserResponse struct {
	ID          string        `json:"id"`
	Email       string        `json:"email"`
	DisplayName string        `json:"display_name"`
	Roles       []domain.Role `json:"roles"`
	Schools     []string      `json:"schools"`
	District    string        `json:"district,omitempty"`
	Active      bool          `json:"active"`
	Locked      bool          `json:"locked"`
	TOTP        bool          `json:"totp_enrolled"`
	Revision    uint64        `json:"revision"`
}

// SessionInfo is one open session of an account.
type SessionInfo struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	// RenewedAt is the time of the start or the latest refresh.
	RenewedAt time.Time `json:"renewed_at"`
	// IdleAt and ExpiresAt are when the session ends: without a refresh,
	// and in any case.
	IdleAt    time.Time `json:"idle_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionList is the answer of GET /v1/users/{id}/sessions.
type SessionList struct {
	Sessions []SessionInfo `json:"sessions"`
}

// RolesRequest names roles to assign.
type RolesRequest struct {
	Roles []domain.Role `json:"roles"`
}

// SchoolsRequest names schools to assign.
type SchoolsRequest struct {
	Schools []string `json:"schools"`
}

// DeactivateRequest says why an account is closed.
type DeactivateRequest struct {
	Reason string `json:"reason"`
}

func (h handlers) userRoutes() []Route {
	manage := Access{Capability: auth.ManageUsers}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/users", Summary: "Create an account", Access: manage,
			Request: CreateUserRequest{}, Response: Written{}, Status: http.StatusCreated, Handler: h.createUser},
		{Method: http.MethodGet, Path: "/v1/users/:id", Summary: "One account",
			Access: Access{Capability: auth.ReadUsers}, Response: UserResponse{}, Handler: h.getUser},
		{Method: http.MethodPost, Path: "/v1/users/:id/roles", Summary: "Assign roles", Access: manage,
			Request: RolesRequest{}, Response: Written{}, Handler: h.changeUser(assignRoles)},
		{Method: http.MethodDelete, Path: "/v1/users/:id/roles/:role", Summary: "Remove a role", Access: manage,
			Response: Written{}, Handler: h.changeUser(removeRole)},
		{Method: http.MethodPost, Path: "/v1/users/:id/schools", Summary: "Assign schools", Access: manage,
			Request: SchoolsRequest{}, Response: Written{}, Handler: h.changeUser(assignSchools)},
		{Method: http.MethodDelete, Path: "/v1/users/:id/schools/:school", Summary: "Remove a school",
			Access: manage, Response: Written{}, Handler: h.changeUser(removeSchool)},
		{Method: http.MethodPost, Path: "/v1/users/:id/deactivate", Summary: "Deactivate an account and end its sessions",
			Access: manage, Request: DeactivateRequest{}, Response: Written{}, Handler: h.changeUser(deactivate)},
		{Method: http.MethodPost, Path: "/v1/users/:id/unlock", Summary: "Unlock an account locked after failed logins",
			Access: manage, Response: Written{}, Handler: h.changeUser(unlock)},
		{Method: http.MethodGet, Path: "/v1/users/:id/sessions", Summary: "The account's open sessions",
			Access: manage, Response: SessionList{}, Handler: h.userSessions},
		{Method: http.MethodDelete, Path: "/v1/users/:id/sessions",
			Summary: "End every session of an account: its access tokens stop working within a minute",
			Access:  manage, Response: Written{}, Handler: h.revokeSessions},
		{Method: http.MethodDelete, Path: "/v1/users/:id/sessions/:session",
			Summary: "End one session of an account: its access tokens stop working within a minute",
			Access:  manage, Response: Written{}, Handler: h.revokeSession},
	}
}

func (h handlers) createUser(c echo.Context) error {
	var req CreateUserRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	p := principal(c)
	id, res, err := h.Accounts.CreateUser(c.Request().Context(), &p, meta(c), commands.NewAccount{
		Email: req.Email, DisplayName: req.DisplayName, Roles: req.Roles,
		Schools: req.Schools, District: req.District, Password: req.Password,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, Written{ID: id, Position: res.Position})
}

func (h handlers) getUser(c echo.Context) error {
	u, err := h.Accounts.User(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, UserResponse{
		ID: u.ID, Email: u.Email, DisplayName: u.DisplayName, Roles: u.Roles, Schools: u.Schools,
		District: u.District, Active: u.Active, Locked: u.Locked(h.Now()), TOTP: u.TOTPEnrolled(),
		Revision: u.Revision,
	})
}

// userChange reads a change to an account from a request.
type userChange func(c echo.Context, actor auth.Principal) (commands.UserChange, error)

func (h handlers) changeUser(read userChange) echo.HandlerFunc {
	return func(c echo.Context) error {
		change, err := read(c, principal(c))
		if err != nil {
			return err
		}
		res, err := h.Accounts.ChangeUser(c.Request().Context(), principal(c), meta(c), c.Param("id"), change)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, Written{ID: c.Param("id"), Position: res.Position})
	}
}

func assignRoles(c echo.Context, _ auth.Principal) (commands.UserChange, error) {
	var req RolesRequest
	if err := bind(c, &req); err != nil {
		return nil, err
	}
	return func(u *domain.User) ([]domain.Event, error) { return u.AssignRoles(req.Roles) }, nil
}

func removeRole(c echo.Context, _ auth.Principal) (commands.UserChange, error) {
	role := domain.Role(c.Param("role"))
	return func(u *domain.User) ([]domain.Event, error) { return u.RemoveRoles([]domain.Role{role}) }, nil
}

func assignSchools(c echo.Context, _ auth.Principal) (commands.UserChange, error) {
	var req SchoolsRequest
	if err := bind(c, &req); err != nil {
		return nil, err
	}
	return func(u *domain.User) ([]domain.Event, error) { return u.AssignSchools(req.Schools) }, nil
}

func removeSchool(c echo.Context, _ auth.Principal) (commands.UserChange, error) {
	school := c.Param("school")
	return func(u *domain.User) ([]domain.Event, error) { return u.RemoveSchools([]string{school}) }, nil
}

func deactivate(c echo.Context, _ auth.Principal) (commands.UserChange, error) {
	var req DeactivateRequest
	if err := bind(c, &req); err != nil {
		return nil, err
	}
	return func(u *domain.User) ([]domain.Event, error) { return u.Deactivate(req.Reason) }, nil
}

func unlock(_ echo.Context, actor auth.Principal) (commands.UserChange, error) {
	return func(u *domain.User) ([]domain.Event, error) { return u.Unlock(actor.UserID) }, nil
}

func (h handlers) userSessions(c echo.Context) error {
	open, err := h.Accounts.Sessions(c.Request().Context(), principal(c), c.Param("id"))
	if err != nil {
		return err
	}
	out := SessionList{Sessions: make([]SessionInfo, 0, len(open))}
	for _, s := range open {
		out.Sessions = append(out.Sessions, SessionInfo{ID: s.ID, StartedAt: s.StartedAt,
			RenewedAt: s.RenewedAt, IdleAt: s.IdleAt(time.Time{}), ExpiresAt: s.ExpiresAt()})
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) revokeSessions(c echo.Context) error {
	res, err := h.Accounts.RevokeSessions(c.Request().Context(), principal(c), meta(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Written{ID: c.Param("id"), Position: res.Position})
}

func (h handlers) revokeSession(c echo.Context) error {
	res, err := h.Accounts.RevokeSession(c.Request().Context(), principal(c), meta(c),
		c.Param("id"), c.Param("session"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Written{ID: c.Param("session"), Position: res.Position})
}
