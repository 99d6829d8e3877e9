package readapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/whitecross/whitecross/readapi"
)

// lists are the paths of every list query, in scope of the compliance
// officer, who may read them all.
func (w *world) lists() []string {
	return []string{
		"/v1/students",
		"/v1/students/" + w.studentIn + "/access",
		"/v1/access/break-glass",
		"/v1/schools/" + w.schoolIn + "/doses",
		"/v1/schools/" + w.schoolIn + "/controlled-stock",
		"/v1/students/" + w.studentIn + "/medication-orders",
		"/v1/students/" + w.studentIn + "/administrations",
		"/v1/schools/" + w.schoolIn + "/alerts",
		"/v1/log",
		"/v1/users",
		"/v1/schools",
		"/v1/districts",
	}
}

// TestListsTakeOneLimit: every list takes limit alike (none or 0 for 50,
// 1 to 500, anything else refused naming limit) and refuses a cursor it
// did not give, naming cursor.
func TestListsTakeOneLimit(t *testing.T) {
	w := newWorld(t)
	token := w.tokens[co]
	for _, path := range w.lists() {
		t.Run(path, func(t *testing.T) {
			for _, limit := range []string{"", "0", "1", "500"} {
				resp, body := call(t, http.MethodGet, w.srv.URL+path+"?limit="+limit, token, nil)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("limit=%s: %d %s", limit, resp.StatusCode, body)
				}
			}
			for _, query := range []string{"limit=501", "limit=-1", "limit=ten", "cursor=bm90LWEtY3Vyc29y"} {
				field, _, _ := strings.Cut(query, "=")
				resp, body := call(t, http.MethodGet, w.srv.URL+path+"?"+query, token, nil)
				p := mustProblem(t, resp, body, http.StatusBadRequest, readapi.TypeValidation)
				if len(p.Errors) != 1 || p.Errors[0].Field != field {
					t.Errorf("%s: errors %+v, want one naming %s", query, p.Errors, field)
				}
			}
		})
	}
}

// TestListsAnswer503WhenTheReadModelsFail: a list whose query fails for
// the database's sake answers 503, never a 400 blaming the request.
func TestListsAnswer503WhenTheReadModelsFail(t *testing.T) {
	w := newWorld(t)
	w.db.Close()
	for _, path := range append(w.lists(), "/v1/students/"+w.studentIn) {
		resp, body := call(t, http.MethodGet, w.srv.URL+path, w.tokens[co], nil)
		p := mustProblem(t, resp, body, http.StatusServiceUnavailable, readapi.TypeUnavailable)
		if p.Detail != "the read models cannot be read" {
			t.Errorf("%s: %q, want the read models named", path, p.Detail)
		}
	}
}
