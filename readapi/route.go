package readapi

import (
	"fmt"

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

// The query parameters that many routes read.
var (
	// queryAfter is read by every query on read models (waitAfter).
	queryAfter = QueryParam{Name: "after", Type: "integer",
		Description: "A log position, from a command's answer: the query first waits, up to 2 seconds, " +
			"until the read models have applied it, and answers X-Read-Model-Behind: true when they have not."}
	queryCursor = QueryParam{Name: "cursor",
		Description: "The next of the previous page, to read the page after it."}
)

// queryLimit is the page size of a list, from 1 to most, def when absent.
func queryLimit(def, most int) QueryParam {
	return QueryParam{Name: "limit", Type: "integer",
		Description: fmt.Sprintf("The most items of the page, 1 to %d; %d when absent.", most, def)}
}

// queryID is a parameter that names something by its ID.
func queryID(name, description string) QueryParam {
	return QueryParam{Name: name, Format: "uuid", Description: description}
}

// Routes returns every route of the application: AppRoutes, then the
// queries on read models (ReadModelRoutes). The service serves these,
// and the tests of the OpenAPI document and of the authorization matrix
// walk them.
func Routes(s Services, rm ReadModels) []Route {
	return append(AppRoutes(s), ReadModelRoutes(rm)...)
}
