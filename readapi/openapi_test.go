package readapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/readapi"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Security   []map[string][]string `json:"security"`
		Parameters []struct {
			Name string `json:"name"`
			In   string `json:"in"`
		} `json:"parameters"`
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

// TestOpenAPIMatchesRouter fails when a route Echo serves is missing from
// the document, or the document names a route Echo does not serve.
func TestOpenAPIMatchesRouter(t *testing.T) {
	api, srv := mustServe(t, testConfig())
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
	if len(served) < len(testRoutes())+4 {
		t.Errorf("Echo serves %d routes: %v", len(served), served)
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
