package readapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/readapi"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Security    []map[string][]string `json:"security"`
		Parameters  []paramDoc            `json:"parameters"`
		RequestBody *struct {
			Content map[string]struct {
				Schema schemaDoc `json:"schema"`
			} `json:"content"`
		} `json:"requestBody"`
		Responses map[string]struct {
			Content map[string]struct {
				Schema schemaDoc `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"paths"`
	Components struct {
		Schemas map[string]schemaDoc `json:"schemas"`
	} `json:"components"`
}

type paramDoc struct {
	Name   string    `json:"name"`
	In     string    `json:"in"`
	Schema schemaDoc `json:"schema"`
}

type schemaDoc struct {
	Type       string               `json:"type"`
	Format     string               `json:"format"`
	Ref        string               `json:"$ref"`
	Properties map[string]schemaDoc `json:"properties"`
	Required   []string             `json:"required"`
	Items      *schemaDoc           `json:"items"`
}

func fetchOpenAPI(t *testing.T, url string) openAPIDoc {
	t.Helper()
	resp, body := call(t, http.MethodGet, url+"/v1/openapi.json", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: status %d", resp.StatusCode)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// appServer is the application's Server with every route the service
// serves (readapi.Routes, as cmd/whitecross wires them), over services
// that no request of these tests reaches.
func appServer(t *testing.T) (*readapi.Server, []readapi.Route) {
	t.Helper()
	accounts, err := commands.NewAccounts(nil, newTokens(t), commands.Config{})
	if err != nil {
		t.Fatal(err)
	}
	clinic, err := commands.NewClinic(nil, accounts, commands.ClinicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	auditor := commands.NewAuditor(nil, nil)
	routes := readapi.Routes(readapi.Services{Accounts: accounts, Clinic: clinic, Auditor: auditor},
		readapi.ReadModels{Auditor: auditor})
	api, err := readapi.New(readapi.Config{Routes: routes, Authenticate: readapi.Authenticator(accounts),
		Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return api, routes
}

// TestOpenAPIMatchesRouter fails when a route the application's Echo
// router serves is missing from the document, or the document names a
// route it does not serve.
func TestOpenAPIMatchesRouter(t *testing.T) {
	api, routes := appServer(t)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	doc := fetchOpenAPI(t, srv.URL)

	var served []string
	for _, r := range readapi.EchoRoutes(api) {
		if r.Method == echo.RouteNotFound {
			continue
		}
		served = append(served, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(served)
	slices.Sort(documented)

	for _, r := range served {
		if !slices.Contains(documented, r) {
			t.Errorf("served, not documented: %s", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(served, r) {
			t.Errorf("documented, not served: %s", r)
		}
	}
	const builtins = 3 // health, readiness, this document
	if len(served) != len(routes)+builtins {
		t.Errorf("Echo serves %d routes, the application has %d and %d built in: %v",
			len(served), len(routes), builtins, served)
	}
}

// TestOpenAPIDocumentsParameters: every POST takes Idempotency-Key, and
// every route's query parameters are in the document, typed.
func TestOpenAPIDocumentsParameters(t *testing.T) {
	api, routes := appServer(t)
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	doc := fetchOpenAPI(t, srv.URL)

	queried := 0
	for _, r := range routes {
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		op, ok := doc.Paths[path][strings.ToLower(r.Method)]
		if !ok {
			t.Errorf("%s %s is not documented", r.Method, path)
			continue
		}
		var header, query []string
		for _, p := range op.Parameters {
			switch p.In {
			case "header":
				header = append(header, p.Name)
			case "query":
				query = append(query, p.Name)
			}
		}
		if wantKey := r.Method == http.MethodPost; slices.Contains(header, "Idempotency-Key") != wantKey {
			t.Errorf("%s %s: header parameters %v; Idempotency-Key wanted on every POST and only there",
				r.Method, path, header)
		}
		var declared []string
		for _, q := range r.Query {
			declared = append(declared, q.Name)
		}
		if !slices.Equal(query, declared) {
			t.Errorf("%s %s: query parameters %v documented, %v declared", r.Method, path, query, declared)
		}
		queried += len(declared)
	}
	students := doc.Paths["/v1/students"]["get"].Parameters
	if !slices.ContainsFunc(students, func(p paramDoc) bool {
		return p.Name == "after" && p.In == "query" && p.Schema.Type == "integer"
	}) {
		t.Errorf("GET /v1/students parameters: %+v", students)
	}
	if queried == 0 {
		t.Error("no route declares a query parameter")
	}
}

func TestOpenAPIDescribesRoutes(t *testing.T) {
	_, srv := mustServe(t, testConfig())
	doc := fetchOpenAPI(t, srv.URL)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: got %q", doc.OpenAPI)
	}

	read := doc.Paths["/v1/things/{id}"]["get"]
	params := read.Parameters
	if len(params) != 1 || params[0].Name != "id" || params[0].In != "path" {
		t.Errorf("path parameters: %+v", read.Parameters)
	}
	if len(read.Security) != 1 || read.Security[0]["bearer"] == nil {
		t.Errorf("protected route security: %+v", read.Security)
	}
	got := read.Responses["200"].Content["application/json"].Schema
	if got.Properties["recorded"].Format != "date-time" ||
		got.Properties["tags"].Items == nil ||
		!slices.Equal(got.Required, []string{"id", "read_by", "recorded"}) {
		t.Errorf("response schema: %+v", got)
	}
	forbidden := read.Responses["403"].Content["application/problem+json"].Schema
	if forbidden.Ref != "#/components/schemas/Problem" {
		t.Errorf("403 schema: %+v", forbidden)
	}

	public := doc.Paths["/v1/public"]["get"]
	if public.Security == nil || len(public.Security) != 0 {
		t.Errorf("public route security: got %+v, want []", public.Security)
	}
	if _, ok := public.Responses["401"]; ok {
		t.Error("public route documents 401")
	}

	write := doc.Paths["/v1/things"]["post"]
	req := write.RequestBody.Content["application/json"].Schema
	if req.Properties["name"].Type != "string" || req.Properties["dose"].Type != "integer" {
		t.Errorf("request schema: %+v", req)
	}
	if _, ok := write.Responses["201"]; !ok {
		t.Errorf("success status: responses %v", write.Responses)
	}
	for _, code := range []string{"400", "401", "403", "404", "409", "422", "429", "503"} {
		if _, ok := write.Responses[code]; !ok {
			t.Errorf("POST /v1/things lacks problem response %s", code)
		}
	}

	problem := doc.Components.Schemas["Problem"]
	for _, field := range []string{"type", "title", "status", "detail", "errors", "checks"} {
		if _, ok := problem.Properties[field]; !ok {
			t.Errorf("Problem schema lacks %s", field)
		}
	}
}
