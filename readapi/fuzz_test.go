package readapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
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
