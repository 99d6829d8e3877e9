package readapi

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// Exports are what the export routes need: the jobs, and the auditor
// that records each download as an access.
type Exports struct {
	Service *commands.Exports
	Auditor *commands.Auditor
}

// ExportRequest is the body of POST /v1/exports: exactly one scope
// (student_id, actor_id, from and to, or all), whether payloads and FHIR
// AuditEvents are included, and who receives the bundle and why.
type ExportRequest struct {
	// StudentID exports the events that concern one student.
	StudentID string `json:"student_id,omitempty"`
	// ActorID exports every event one account caused.
	ActorID string `json:"actor_id,omitempty"`
	// From and To, RFC 3339 times, export the events recorded from From
	// up to, not including, To.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// All exports the whole log.
	All bool `json:"all,omitempty"`
	// Payloads includes each event's data; by default the bundle holds
	// their digests only, which still verify.
	Payloads bool `json:"payloads,omitempty"`
	// FHIR adds the events as FHIR R4 AuditEvent resources.
	FHIR bool `json:"fhir,omitempty"`
	// Recipient (2 to 200 characters) and Purpose (3 to 1000) are
	// recorded in the accounting of disclosures.
	Recipient string `json:"recipient"`
	Purpose   string `json:"purpose"`
}

// ExportStatus is an export job: what was asked, and where it stands.
type ExportStatus struct {
	ID string `json:"id"`
	// Status is queued, running, done or failed.
	Status      string             `json:"status"`
	Scope       domain.ExportScope `json:"scope"`
	Payloads    bool               `json:"payloads"`
	FHIR        bool               `json:"fhir"`
	Recipient   string             `json:"recipient"`
	Purpose     string             `json:"purpose"`
	RequestedBy string             `json:"requested_by"`
	RequestedAt time.Time          `json:"requested_at"`
	StartedAt   time.Time          `json:"started_at,omitzero"`
	FinishedAt  time.Time          `json:"finished_at,omitzero"`
	// Counts, TreeSize (the checkpoint's), the bundle's SHA-256 and size
	// and the disclosure's ID are there once done.
	Counts       *domain.ExportCounts `json:"counts,omitempty"`
	TreeSize     int64                `json:"tree_size,omitempty"`
	BundleSHA256 string               `json:"bundle_sha256,omitempty"`
	BundleSize   int64                `json:"bundle_size,omitempty"`
	DisclosureID string               `json:"disclosure_id,omitempty"`
	// Bundle is where to download the bundle, once done.
	Bundle string `json:"bundle,omitempty"`
	// Error says why it failed.
	Error string `json:"error,omitempty"`
}

// ExportRoutes returns the routes of export jobs: request one, poll it,
// download its bundle. All need auditlog.read.
func ExportRoutes(x Exports) []Route {
	h := exportHandlers{x}
	read := Access{Capability: auth.ReadAuditLog}
	return []Route{
		{Method: http.MethodPost, Path: "/v1/exports",
			Summary: "Ask for an export bundle of a student's, an account's, a time range's " +
				"or all events; 202 with its Location to poll",
			Access: read, Request: ExportRequest{}, Response: ExportStatus{}, Status: http.StatusAccepted,
			Handler: h.request},
		{Method: http.MethodGet, Path: "/v1/exports/:id",
			Summary: "An export job: queued, running, done (with its counts and SHA-256) or failed",
			Access:  read, Response: ExportStatus{}, Handler: h.status},
		{Method: http.MethodGet, Path: "/v1/exports/:id/bundle",
			Summary: "Download a done export's bundle (application/x-tar); the download is " +
				"recorded as an access",
			Access: read, PHI: true, Handler: h.bundle},
	}
}

type exportHandlers struct{ Exports }

func (h exportHandlers) request(c echo.Context) error {
	var req ExportRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	var v ValidationError
	scope := domain.ExportScope{StudentID: req.StudentID, ActorID: req.ActorID, All: req.All,
		From: optionalTime(req.From, "from", &v), To: optionalTime(req.To, "to", &v)}
	if err := v.Err(); err != nil {
		return err
	}
	x, _, err := h.Service.Request(c.Request().Context(), principal(c), meta(c), commands.ExportRequest{
		Scope: scope, Payloads: req.Payloads, FHIR: req.FHIR,
		Recipient: req.Recipient, Purpose: req.Purpose,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, exportPath(x.ID))
	return c.JSON(http.StatusAccepted, exportStatus(x))
}

// optionalTime parses an RFC 3339 time, nil when s is empty; a bad one is
// added to v under field.
func optionalTime(s, field string, v *ValidationError) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Add(field, "must be an RFC 3339 time, such as 2026-09-01T00:00:00Z")
		return nil
	}
	return &t
}

func (h exportHandlers) status(c echo.Context) error {
	x, err := h.Service.Export(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, exportStatus(x))
}

func (h exportHandlers) bundle(c echo.Context) error {
	d, err := h.Service.Open(c.Request().Context(), c.Param("id"))
	switch {
	case errors.Is(err, commands.ErrExportNotDone):
		return Conflict(fmt.Sprintf("the export is %s: poll %s until its status is done",
			d.Export.Status, exportPath(d.Export.ID)))
	case errors.Is(err, commands.ErrBundleMissing):
		return NotFound("the export is done, but its bundle is no longer kept here")
	case err != nil:
		return err
	}
	defer d.File.Close()
	_, err = h.Auditor.Accessed(c.Request().Context(), meta(c), commands.Access{
		Actor: principal(c), StudentIDs: d.Students, What: "GET /v1/exports/:id/bundle",
		Purpose: domain.PurposeInvestigation,
	})
	if err != nil {
		return Unavailable("the download cannot be recorded, so the bundle is not sent")
	}
	out := d.Export.Outcome
	header := c.Response().Header()
	header.Set(echo.HeaderContentDisposition,
		fmt.Sprintf(`attachment; filename="whitecross-export-%s.tar"`, d.Export.ID))
	header.Set("Repr-Digest", "sha-256=:"+base64Hex(out.BundleSHA256)+":")
	header.Set(echo.HeaderContentLength, fmt.Sprint(out.BundleSize))
	// A bundle may be far larger than a response is given time for: it
	// gets a minute, and a second more for each MiB.
	deadline := time.Now().Add(time.Minute + time.Duration(out.BundleSize>>20)*time.Second)
	http.NewResponseController(c.Response()).SetWriteDeadline(deadline)
	return c.Stream(http.StatusOK, "application/x-tar", d.File)
}

func exportPath(id string) string { return "/v1/exports/" + id }

// base64Hex turns a digest in hex into base64, as Repr-Digest (RFC 9530)
// writes it.
func base64Hex(h string) string {
	raw, _ := hex.DecodeString(h)
	return base64.StdEncoding.EncodeToString(raw)
}

func exportStatus(x *domain.Export) ExportStatus {
	r := x.Request
	s := ExportStatus{
		ID: x.ID, Status: string(x.Status), Scope: r.Scope, Payloads: r.Payloads, FHIR: r.FHIR,
		Recipient: r.Recipient, Purpose: r.Purpose, RequestedBy: r.RequestedBy, RequestedAt: r.At,
		StartedAt: x.StartedAt, FinishedAt: x.FinishedAt, Error: x.FailReason,
	}
	if o := x.Outcome; o != nil {
		s.Counts = &o.Counts
		s.TreeSize, s.BundleSHA256, s.BundleSize = o.TreeSize, o.BundleSHA256, o.BundleSize
		s.DisclosureID, s.Bundle = o.DisclosureID, exportPath(x.ID)+"/bundle"
	}
	return s
}
