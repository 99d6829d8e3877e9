package readapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// FuzzCommandBodies sends arbitrary bodies to every command route, as a
// caller allowed to use it, on a real server and database. Whatever the
// body, the answer is never a 5xx, and an answer that is not a success
// appends nothing to the log, unless the refusal is itself recorded
// (recordedRefusals).
func FuzzCommandBodies(f *testing.F) {
	w := newWorld(f)
	routes := commandRoutes(w.api)
	for i, seed := range fuzzSeeds(w, routes) {
		f.Add(uint8(i), seed)
	}
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		w.t = t
		r := routes[int(pick)%len(routes)]
		row, _ := matrixRow(r)
		path, _ := row.request(w, true)
		token := ""
		if role := callerFor(r); role != "" {
			token = w.tokens[role]
		}
		before := w.head()
		status := w.raw(r.Method, path, token, body)
		if status >= 500 {
			t.Fatalf("%s %s answered %d to %q", r.Method, path, status, body)
		}
		if status < 300 {
			return
		}
		for _, typ := range w.typesSince(before) {
			if !slices.Contains(recordedRefusals[status], typ) {
				t.Fatalf("%s %s refused %q with %d but the log recorded %s", r.Method, path, body, status, typ)
			}
		}
	})
}

// FuzzQueryParameters sends arbitrary query strings to every GET route of
// the application, as a caller allowed to use it, on a real server and
// database; the seeds set each route's own parameters to values a
// careless client might send. Whatever the query, the answer is never a
// 5xx, and an answer that is not a success appends nothing to the log
// but the record of a refused read.
func FuzzQueryParameters(f *testing.F) {
	w := newWorld(f)
	routes := queryRoutes(w.api)
	for i, r := range routes {
		for _, q := range r.Query {
			for _, v := range []string{"", "-1", "0", "x", "%zz", "2026-02-30", "9999999999999999999999"} {
				f.Add(uint8(i), q.Name+"="+v)
			}
		}
		f.Add(uint8(i), "limit=2&cursor=AAAA&cursor=BBBB")
	}
	f.Fuzz(func(t *testing.T, pick uint8, query string) {
		w.t = t
		r := routes[int(pick)%len(routes)]
		row, _ := matrixRow(r)
		path, _ := row.request(w, true)
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		if _, err := url.Parse(path + sep + query); err != nil {
			// No HTTP client sends it.
			return
		}
		token := ""
		if role := callerFor(r); role != "" {
			token = w.tokens[role]
		}
		before := w.head()
		status := w.raw(r.Method, path+sep+query, token, nil)
		if status >= 500 {
			t.Fatalf("%s %s%s%s answered %d", r.Method, path, sep, query, status)
		}
		if status < 300 {
			return
		}
		for _, typ := range w.typesSince(before) {
			if typ != "PHIAccessRefused" {
				t.Fatalf("%s %s%s%s answered %d but the log recorded %s", r.Method, path, sep, query, status, typ)
			}
		}
	})
}

// queryRoutes are the application's GET routes that the matrix can
// call, in a fixed order, so that a fuzz input can name one by index.
func queryRoutes(api *readapi.Server) []readapi.Route {
	var out []readapi.Route
	for _, r := range api.Routes() {
		if _, ok := matrixRow(r); ok && r.Method == http.MethodGet && strings.HasPrefix(r.Path, "/v1/") {
			out = append(out, r)
		}
	}
	return out
}

// recordedRefusals are the events a refusal records, by the status that
// answers it: a dose the medication rules blocked (422), and a failed
// login with the lock it may cause (401). Every other refusal appends
// nothing.
var recordedRefusals = map[int][]string{
	http.StatusUnprocessableEntity: {"MedicationAdministrationBlocked"},
	http.StatusUnauthorized:        {"LoginFailed", "UserLocked"},
	// A witness's wrong credentials are recorded on the witness's account,
	// whatever else the body says.
	http.StatusBadRequest: {"WitnessConfirmationFailed", "UserLocked"},
}

// commandRoutes are the routes that take a body, in a fixed order, so
// that a fuzz input can name one by index. Logout is left out: it would
// end the session the other inputs use.
func commandRoutes(api *readapi.Server) []readapi.Route {
	var out []readapi.Route
	for _, r := range api.Routes() {
		if r.Method == http.MethodPost && r.Path != "/v1/auth/logout" {
			out = append(out, r)
		}
	}
	return out
}

// callerFor returns a role allowed to call r, "" for a public route.
func callerFor(r readapi.Route) domain.Role {
	if r.Access.Public {
		return ""
	}
	for _, role := range domain.Roles {
		if r.Access.Capability == "" || auth.Can(role, r.Access.Capability) {
			return role
		}
	}
	return domain.RoleSysadmin
}

func fuzzSeeds(w *world, routes []readapi.Route) [][]byte {
	var seeds [][]byte
	for _, r := range routes {
		c, _ := matrixRow(r)
		_, body := c.request(w, true)
		b, _ := json.Marshal(body)
		seeds = append(seeds, b)
	}
	return append(seeds, []byte(`{`), []byte(`null`), []byte(`[]`), []byte(`{"email":7}`),
		bytes.Repeat([]byte("a"), 2048))
}

// raw sends body as it is and returns the status.
func (w *world) raw(method, path, token string, body []byte) int {
	w.t.Helper()
	status, _ := w.rawAnswer(method, path, token, body)
	return status
}

// rawAnswer sends body as it is, with the header name and value pairs
// given, and returns the status and the body of the answer.
func (w *world) rawAnswer(method, path, token string, body []byte, header ...string) (int, []byte) {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return resp.StatusCode, data
}
