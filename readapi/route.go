package readapi

import (
	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
)

// Access says who may call a route. Every route has one: the router
// refuses to start with a route that has none, and the authorization
// matrix test walks every route with every role.
type Access struct {
	// Public routes need no token: health, readiness, login, refresh.
	Public bool
	// Capability is what the caller's roles must grant. Scope (schools,
	// district) is checked by the handler.
	Capability auth.Capability
	// Authenticated routes need a valid token and nothing more (logout,
	// one's own password).
	Authenticated bool
}

// Route is one endpoint: the router, the OpenAPI document and the
// authorization tests are all made from the same list.
type Route struct {
	Method  string
	Path    string // Echo syntax: /v1/users/:id
	Summary string
	Access  Access
	// Request and Response are zero values of the JSON bodies, for the
	// OpenAPI document; nil when there is none.
	Request  any
	Response any
	// Query lists the query parameters the route reads, for the OpenAPI
	// document.
	Query []QueryParam
	// Status is the status code of success; 200 when zero.
	Status int
	// PHI marks responses that carry protected health information: they
	// are sent with Cache-Control: no-store and are audited.
	PHI     bool
	Handler echo.HandlerFunc
}

// QueryParam is one query parameter of a route.
type QueryParam struct {
	Name string
	// Type is the JSON Schema type of its value: "string" when empty,
	// "integer", "boolean".
	Type string
	// Format refines a string: "date", "date-time", "uuid".
	Format      string
	Description string
	Required    bool
}
