package readapi

import (
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// The OpenAPI 3.1 document, as much of it as the routes can say. Schemas
// are derived from the routes' Request and Response values by reflection.
type (
	openAPIDoc struct {
		OpenAPI    string                          `json:"openapi"`
		Info       openAPIInfo                     `json:"info"`
		Paths      map[string]map[string]operation `json:"paths"`
		Components openAPIComponents               `json:"components"`
	}
	openAPIInfo struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	}
	openAPIComponents struct {
		SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
		Schemas         map[string]schema         `json:"schemas"`
	}
	securityScheme struct {
		Type         string `json:"type"`
		Scheme       string `json:"scheme"`
		BearerFormat string `json:"bearerFormat"`
	}
	operation struct {
		OperationID string `json:"operationId"`
		Summary     string `json:"summary,omitempty"`
		// Security is [] for a public route: it must be sent, not omitted.
		Security    []map[string][]string `json:"security"`
		Parameters  []parameter           `json:"parameters,omitempty"`
		RequestBody *requestBody          `json:"requestBody,omitempty"`
		Responses   map[string]response   `json:"responses"`
		Capability  string                `json:"x-capability,omitempty"`
		PHI         bool                  `json:"x-phi,omitempty"`
	}
	parameter struct {
		Name        string `json:"name"`
		In          string `json:"in"`
		Description string `json:"description,omitempty"`
		Required    bool   `json:"required"`
		Schema      schema `json:"schema"`
	}
	requestBody struct {
		Required bool                 `json:"required"`
		Content  map[string]mediaType `json:"content"`
	}
	response struct {
		Description string               `json:"description"`
		Content     map[string]mediaType `json:"content,omitempty"`
	}
	mediaType struct {
		Schema schema `json:"schema"`
	}
	// schema is a JSON Schema, as OpenAPI 3.1 embeds it.
	schema map[string]any
)

const bearerScheme = "bearer"

// openAPIDocument returns the document of every registered route.
func (s *Server) openAPIDocument() ([]byte, error) {
	doc := openAPIDoc{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{
			Title:   "White Cross API",
			Version: "v1",
			Description: "The health office API. Errors are RFC 9457 problems; " +
				"x-capability names the capability a route requires.",
		},
		Paths: map[string]map[string]operation{},
		Components: openAPIComponents{
			SecuritySchemes: map[string]securityScheme{
				bearerScheme: {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
			},
			Schemas: map[string]schema{
				"Problem": schemaFor(reflect.TypeFor[Problem](), nil),
			},
		},
	}
	for _, r := range s.routes {
		path, params := openAPIPathOf(r.Path)
		if doc.Paths[path] == nil {
			doc.Paths[path] = map[string]operation{}
		}
		op := operationOf(r)
		op.Parameters = append(params, queryParameters(r.Query)...)
		if r.Method == http.MethodPost {
			op.Parameters = append(op.Parameters, idempotencyKey)
		}
		doc.Paths[path][strings.ToLower(r.Method)] = op
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("marshal openapi document: %w", err)
	}
	return b, nil
}

// serveOpenAPI answers the document built by New.
func (s *Server) serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, s.openAPI)
}

// operationOf describes r, all but its path parameters.
func operationOf(r Route) operation {
	op := operation{
		OperationID: operationID(r),
		Summary:     r.Summary,
		Security:    []map[string][]string{},
		Responses:   map[string]response{},
		Capability:  string(r.Access.Capability),
		PHI:         r.PHI,
	}
	if !r.Access.Public {
		op.Security = append(op.Security, map[string][]string{bearerScheme: {}})
	}
	if r.Request != nil {
		op.RequestBody = &requestBody{
			Required: true,
			Content:  jsonContent(r.Request),
		}
	}

	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	success := response{Description: http.StatusText(status)}
	if r.Response != nil {
		success.Content = jsonContent(r.Response)
	}
	op.Responses[strconv.Itoa(status)] = success

	problem := map[string]mediaType{"application/problem+json": {
		Schema: schema{"$ref": "#/components/schemas/Problem"},
	}}
	for _, code := range problemStatuses(r) {
		op.Responses[strconv.Itoa(code)] = response{
			Description: http.StatusText(code),
			Content:     problem,
		}
	}
	return op
}

// problemStatuses lists the problems a route may answer: every /v1 route
// may be invalid, missing, throttled or unavailable; a protected one
// unauthenticated or forbidden; one with a body too large; a command
// (not GET) conflicting or refused by a rule.
func problemStatuses(r Route) []int {
	if !underV1(r.Path) {
		return nil
	}
	codes := []int{
		http.StatusBadRequest, http.StatusNotFound,
		http.StatusTooManyRequests, http.StatusServiceUnavailable,
	}
	if !r.Access.Public {
		codes = append(codes, http.StatusUnauthorized, http.StatusForbidden)
	}
	if r.Request != nil {
		codes = append(codes, http.StatusRequestEntityTooLarge)
	}
	if r.Method != http.MethodGet {
		codes = append(codes, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	return codes
}

func jsonContent(v any) map[string]mediaType {
	return map[string]mediaType{
		echo.MIMEApplicationJSON: {Schema: schemaFor(reflect.TypeOf(v), nil)},
	}
}

// openAPIPathOf converts an Echo path to OpenAPI's: /v1/users/:id is
// /v1/users/{id}, with id declared as a path parameter.
func openAPIPathOf(path string) (string, []parameter) {
	segs := strings.Split(path, "/")
	var params []parameter
	for i, seg := range segs {
		var name string
		switch {
		case strings.HasPrefix(seg, ":"):
			name = seg[1:]
		case seg == "*":
			name = "path"
		default:
			continue
		}
		segs[i] = "{" + name + "}"
		params = append(params, parameter{
			Name: name, In: "path", Required: true, Schema: schema{"type": "string"},
		})
	}
	return strings.Join(segs, "/"), params
}

// idempotencyKey is the header every POST takes: a retry with the same
// key does nothing twice and answers as the first try did.
var idempotencyKey = parameter{
	Name: "Idempotency-Key", In: "header",
	Description: "A key of the client's choosing, unique per command: a request retried with " +
		"the same key appends nothing more and answers as the first did.",
	Schema: schema{"type": "string"},
}

// queryParameters describes a route's query parameters.
func queryParameters(qs []QueryParam) []parameter {
	params := make([]parameter, 0, len(qs))
	for _, q := range qs {
		s := schema{"type": cmp.Or(q.Type, "string")}
		if q.Format != "" {
			s["format"] = q.Format
		}
		params = append(params, parameter{
			Name: q.Name, In: "query", Description: q.Description,
			Required: q.Required, Schema: s,
		})
	}
	return params
}

// operationID names r from its method and path: get_v1_users_id.
func operationID(r Route) string {
	id := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			return c
		}
		return '_'
	}, strings.ToLower(r.Method)+r.Path)
	for strings.Contains(id, "__") {
		id = strings.ReplaceAll(id, "__", "_")
	}
	return strings.TrimSuffix(id, "_")
}

var (
	timeType          = reflect.TypeFor[time.Time]()
	uuidType          = reflect.TypeFor[uuid.UUID]()
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// schemaFor returns the JSON Schema of the values encoding/json makes of
// t. A type with its own MarshalJSON, or an interface, may be anything:
// {}. seen holds the structs being described, so that a recursive type
// ends in a plain object; nil starts afresh.
func schemaFor(t reflect.Type, seen map[reflect.Type]bool) schema {
	if seen == nil {
		seen = map[reflect.Type]bool{}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return schema{"type": "string", "format": "date-time"}
	case t == uuidType:
		return schema{"type": "string", "format": "uuid"}
	case implements(t, jsonMarshalerType):
		return schema{}
	case implements(t, textMarshalerType):
		return schema{"type": "string"}
	}

	switch t.Kind() {
	case reflect.String:
		return schema{"type": "string"}
	case reflect.Bool:
		return schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return schema{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return schema{"type": "string", "contentEncoding": "base64"}
		}
		return schema{"type": "array", "items": schemaFor(t.Elem(), seen)}
	case reflect.Map:
		return schema{"type": "object", "additionalProperties": schemaFor(t.Elem(), seen)}
	case reflect.Struct:
		return structSchema(t, seen)
	}
	return schema{}
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// structSchema describes a struct as an object whose properties are its
// JSON fields; a field without omitempty or omitzero is required, since
// it is always sent.
func structSchema(t reflect.Type, seen map[reflect.Type]bool) schema {
	if seen[t] {
		return schema{"type": "object"}
	}
	seen[t] = true
	defer delete(seen, t)

	props := map[string]schema{}
	var required []string
	addFields(t, seen, props, &required)
	s := schema{"type": "object", "properties": props}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

// addFields adds t's JSON fields to props, those of embedded structs
// without a JSON name included, as encoding/json promotes them.
func addFields(
	t reflect.Type,
	seen map[reflect.Type]bool,
	props map[string]schema,
	required *[]string,
) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, seen, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}

		props[name] = schemaFor(f.Type, seen)
		if hasOption(opts, "string") {
			props[name] = schema{"type": "string"}
		}
		if !hasOption(opts, "omitempty") && !hasOption(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

func hasOption(opts, want string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
