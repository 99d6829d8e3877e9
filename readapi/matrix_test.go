package readapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

const password = "Correct-Horse-Battery-9"

// clock is a settable clock, shared by the accounts and the test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is a whole service on a fresh database: two districts with a
// school each, one account per role, all in the first district.
type world struct {
	t        testing.TB
	srv      *httptest.Server
	api      *readapi.Server
	accounts *commands.Accounts
	clinic   *commands.Clinic
	runner   *projections.Runner
	db       *pgxpool.Pool // the read models' database
	log      eventstore.Store
	clock    *clock
	exports  *exportFixture

	districtIn, districtOut string
	schoolIn, schoolOut     string
	studentIn, studentOut   string
	users                   map[domain.Role]string // role → email
	tokens                  map[domain.Role]string // role → access token
}

func newWorld(t testing.TB) *world {
	t.Helper()
	db := pgtest.New(t)
	l := postgres.New(db.AppPool(t), postgres.Config{})
	t.Cleanup(func() { l.Close() })
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, log: l, clock: &clock{now: time.Now().UTC()},
		users: map[domain.Role]string{}, tokens: map[domain.Role]string{}}
	tokens, err := auth.NewTokens(key, auth.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	w.accounts, err = commands.NewAccounts(l, tokens, commands.Config{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	w.clinic, err = commands.NewClinic(l, w.accounts, commands.ClinicConfig{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	pool := db.AppPool(t)
	w.db = pool
	w.runner, err = projections.New(pool, l, projections.Config{}, projections.Students{}, projections.Access{},
		projections.NewCharts(l), projections.BreakGlass{}, projections.Medications{}, projections.ControlledStock{})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.runner.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	auditor := commands.NewAuditor(l, w.clock.Now)
	routes := readapi.AppRoutes(readapi.Services{
		Accounts: w.accounts, Clinic: w.clinic, Auditor: auditor, Log: l, Now: w.clock.Now,
	})
	routes = append(routes, readapi.ReadModelRoutes(readapi.ReadModels{Runner: w.runner, DB: pool, Auditor: auditor,
		Now: w.clock.Now})...)
	routes = append(routes, w.exportRoutes(pool, auditor)...)
	w.api, err = readapi.New(readapi.Config{
		Logger:       zerolog.Nop(),
		Routes:       routes,
		Authenticate: readapi.Authenticator(w.accounts),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(w.api.Handler())
	t.Cleanup(w.srv.Close)
	w.seed()
	return w
}

var system = auth.Principal{UserID: "00000000-0000-4000-8000-000000000001", Roles: []domain.Role{domain.RoleSysadmin}}

func (w *world) seed() {
	ctx := w.t.Context()
	var err error
	for _, d := range []*string{&w.districtIn, &w.districtOut} {
		if *d, _, err = w.accounts.CreateDistrict(ctx, system, commands.Meta{}, "District"); err != nil {
			w.t.Fatal(err)
		}
	}
	if w.schoolIn, _, err = w.accounts.CreateSchool(ctx, system, commands.Meta{}, w.districtIn, "In"); err != nil {
		w.t.Fatal(err)
	}
	if w.schoolOut, _, err = w.accounts.CreateSchool(ctx, system, commands.Meta{}, w.districtOut, "Out"); err != nil {
		w.t.Fatal(err)
	}
	w.studentIn = w.enrol(w.districtIn, w.schoolIn)
	w.studentOut = w.enrol(w.districtOut, w.schoolOut)
	for _, r := range domain.Roles {
		w.users[r] = string(r) + "-user@district.example"
		w.createUser(w.users[r], r, w.schoolIn)
		w.tokens[r] = w.login(w.users[r]).AccessToken
	}
	w.sync()
}

// sync waits until the read models have applied every event of the log.
func (w *world) sync() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.runner.WaitFor(ctx, w.head()); err != nil {
		w.t.Fatalf("read models: %v", err)
	}
}

// enrol makes a student at school and returns its ID.
func (w *world) enrol(district, school string) string {
	registrar := auth.Principal{UserID: system.UserID, Roles: []domain.Role{domain.RoleNurse},
		Schools: []string{school}}
	id, _, err := w.clinic.Enrol(w.t.Context(), registrar, commands.Meta{}, domain.EnrollStudent{
		StudentNumber: uuid.NewString()[:8], DistrictID: district, SchoolID: school,
		GivenName: "Sam", FamilyName: "Rivera", BirthDate: "2016-04-02", Grade: "4",
		Gender: "unknown", EnrolledOn: "2025-08-20"})
	if err != nil {
		w.t.Fatalf("enrol: %v", err)
	}
	return id
}

// createUser makes an account as the system and returns its ID.
func (w *world) createUser(email string, role domain.Role, school string) string {
	in := commands.NewAccount{Email: email, DisplayName: "Someone", Roles: []domain.Role{role}, Password: password}
	switch role {
	case domain.RoleNurse, domain.RoleSchoolAdmin:
		in.Schools = []string{school}
	case domain.RoleDistrictAdmin:
		in.District = w.districtIn
	}
	id, _, err := w.accounts.CreateUser(w.t.Context(), nil, commands.Meta{}, in)
	if err != nil {
		w.t.Fatalf("create %s: %v", role, err)
	}
	return id
}

func (w *world) login(email string) readapi.TokenResponse {
	w.t.Helper()
	var out readapi.TokenResponse
	status := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: email, Password: password}, &out)
	if status != http.StatusOK {
		w.t.Fatalf("login %s: status %d", email, status)
	}
	return out
}

// call sends one request and returns its status, decoding a 2xx body into
// out when out is not nil.
func (w *world) call(method, path, token string, body, out any) int {
	w.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequestWithContext(w.t.Context(), method, w.srv.URL+path, &buf)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// matrixCase is one route's row of the matrix: how to call it on a target
// in the caller's scope or out of it, and what each role must get.
type matrixCase struct {
	request func(w *world, inScope bool) (path string, body any)
	want    func(role domain.Role, inScope bool) int
}

// only answers ok to the roles listed and 403 to the others.
func only(ok int, roles ...domain.Role) func(domain.Role, bool) int {
	return func(r domain.Role, _ bool) int {
		for _, allowed := range roles {
			if r == allowed {
				return ok
			}
		}
		return http.StatusForbidden
	}
}

// scoped answers like only in scope; out of scope, the district and school
// administrators get outStatus.
func scoped(ok, outStatus int, roles ...domain.Role) func(domain.Role, bool) int {
	base := only(ok, roles...)
	return func(r domain.Role, in bool) int {
		got := base(r, in)
		if !in && got == ok && (r == domain.RoleDistrictAdmin || r == domain.RoleSchoolAdmin) {
			return outStatus
		}
		return got
	}
}

// allowed stands for any answer but 401, 403 or a 5xx: the caller got
// past authorization, and the body decided the rest.
const allowed = -1

func everyone(status int) func(domain.Role, bool) int {
	return func(domain.Role, bool) int { return status }
}

const (
	sys   = domain.RoleSysadmin
	dist  = domain.RoleDistrictAdmin
	sch   = domain.RoleSchoolAdmin
	nurse = domain.RoleNurse
	co    = domain.RoleComplianceOfficer
)

// target makes a fresh nurse account at the caller's school or another
// district's, so that each call changes an account of its own.
func (w *world) target(inScope bool) string {
	school := w.schoolOut
	if inScope {
		school = w.schoolIn
	}
	return w.createUser(uuid.NewString()+"@district.example", domain.RoleNurse, school)
}

func (w *world) school(inScope bool) string {
	if inScope {
		return w.schoolIn
	}
	return w.schoolOut
}

func (w *world) district(inScope bool) string {
	if inScope {
		return w.districtIn
	}
	return w.districtOut
}

var matrix = map[string]matrixCase{
	"GET /healthz":         {func(*world, bool) (string, any) { return "/healthz", nil }, everyone(200)},
	"GET /readyz":          {func(*world, bool) (string, any) { return "/readyz", nil }, everyone(200)},
	"GET /metrics":         {func(*world, bool) (string, any) { return "/metrics", nil }, everyone(200)},
	"GET /v1/openapi.json": {func(*world, bool) (string, any) { return "/v1/openapi.json", nil }, everyone(200)},
	"POST /v1/auth/refresh": {func(*world, bool) (string, any) {
		return "/v1/auth/refresh", readapi.RefreshRequest{RefreshToken: "x.y"}
	}, everyone(401)},
	"POST /v1/auth/login": {func(w *world, _ bool) (string, any) {
		return "/v1/auth/login", readapi.LoginRequest{Email: w.users[nurse], Password: password}
	}, everyone(200)},
	"POST /v1/auth/logout": {func(*world, bool) (string, any) { return "/v1/auth/logout", nil }, everyone(204)},
	// A wrong current password: every caller gets as far as the check.
	"POST /v1/auth/password": {func(*world, bool) (string, any) {
		return "/v1/auth/password", readapi.PasswordChange{CurrentPassword: "not-it", NewPassword: password + "x"}
	}, everyone(400)},
	"POST /v1/auth/totp/secret": {func(*world, bool) (string, any) { return "/v1/auth/totp/secret", nil }, everyone(200)},
	"POST /v1/auth/totp": {func(*world, bool) (string, any) {
		return "/v1/auth/totp", readapi.TOTPEnrolment{Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Code: "000000"}
	}, everyone(400)},
	"POST /v1/users": {func(w *world, in bool) (string, any) {
		return "/v1/users", readapi.CreateUserRequest{Email: uuid.NewString() + "@district.example",
			DisplayName: "New", Roles: []domain.Role{nurse}, Schools: []string{w.school(in)}, Password: password}
	}, scoped(201, 403, sys, dist, sch)},
	"GET /v1/users/:id": {func(w *world, in bool) (string, any) { return "/v1/users/" + w.target(in), nil },
		scoped(200, 404, sys, dist, sch, co)},
	"POST /v1/users/:id/roles": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/roles", readapi.RolesRequest{Roles: []domain.Role{nurse}}
	}, scoped(200, 403, sys, dist, sch)},
	"DELETE /v1/users/:id/roles/:role": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/roles/school_admin", nil
	}, scoped(200, 403, sys, dist, sch)},
	"POST /v1/users/:id/schools": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/schools", readapi.SchoolsRequest{Schools: []string{w.school(in)}}
	}, scoped(200, 403, sys, dist, sch)},
	"DELETE /v1/users/:id/schools/:school": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/schools/" + uuid.NewString(), nil
	}, scoped(200, 403, sys, dist, sch)},
	"POST /v1/users/:id/deactivate": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/deactivate", readapi.DeactivateRequest{Reason: "left the district"}
	}, scoped(200, 403, sys, dist, sch)},
	"POST /v1/users/:id/unlock": {func(w *world, in bool) (string, any) {
		return "/v1/users/" + w.target(in) + "/unlock", nil
	}, scoped(200, 403, sys, dist, sch)},
	"POST /v1/districts": {func(*world, bool) (string, any) {
		return "/v1/districts", readapi.CreateDistrictRequest{Name: "Another"}
	}, func(r domain.Role, _ bool) int { return only(201, sys)(r, true) }},
	"GET /v1/districts/:id": {func(w *world, in bool) (string, any) { return "/v1/districts/" + w.district(in), nil },
		everyone(200)},
	"POST /v1/schools": {func(w *world, in bool) (string, any) {
		return "/v1/schools", readapi.CreateSchoolRequest{Name: "Another", DistrictID: w.district(in)}
	}, scoped(201, 403, sys, dist)},
	"GET /v1/schools/:id": {func(w *world, in bool) (string, any) { return "/v1/schools/" + w.school(in), nil },
		everyone(200)},
	"POST /v1/students": {func(w *world, in bool) (string, any) {
		return "/v1/students", readapi.EnrolRequest{StudentNumber: uuid.NewString()[:8],
			DistrictID: w.district(in), SchoolID: w.school(in), GivenName: "Ana", FamilyName: "Lee",
			BirthDate: "2015-01-09", Grade: "5", Gender: "female", EnrolledOn: "2025-08-20"}
	}, func(r domain.Role, in bool) int {
		if !auth.Can(r, auth.ManageRoster) || !in {
			return http.StatusForbidden
		}
		return http.StatusCreated
	}},
	"POST /v1/schools/:id/controlled-substances": {func(w *world, in bool) (string, any) {
		return "/v1/schools/" + w.school(in) + "/controlled-substances", readapi.StockCountRequest{}
	}, func(r domain.Role, in bool) int {
		if !auth.Can(r, auth.WriteClinical) || !in {
			return http.StatusForbidden
		}
		return allowed
	}},
	"GET /v1/students": {func(w *world, in bool) (string, any) {
		return fmt.Sprintf("/v1/students?school=%s&after=%d", w.school(in), w.head()), nil
	}, func(r domain.Role, in bool) int {
		switch {
		case !auth.Can(r, auth.ReadClinical):
			return http.StatusForbidden
		case !in && !auth.Can(r, auth.ReadHistory):
			return http.StatusForbidden
		}
		return http.StatusOK
	}},
	"GET /v1/schools/:id/doses": {func(w *world, in bool) (string, any) {
		return "/v1/schools/" + w.school(in) + "/doses?date=2025-03-03", nil
	}, readsClinical},
	"GET /v1/schools/:id/controlled-stock": {func(w *world, in bool) (string, any) {
		return "/v1/schools/" + w.school(in) + "/controlled-stock", nil
	}, readsClinical},
	"GET /v1/students/:id/medication-orders": {func(w *world, in bool) (string, any) {
		return "/v1/students/" + w.student(in) + "/medication-orders", nil
	}, readsClinical},
	"GET /v1/students/:id/administrations": {func(w *world, in bool) (string, any) {
		return "/v1/students/" + w.student(in) + "/administrations?kind=given", nil
	}, readsClinical},
	"POST /v1/access/break-glass": {func(*world, bool) (string, any) {
		return "/v1/access/break-glass", readapi.BreakGlassRequest{StudentID: uuid.NewString(),
			ReasonCode: "medical_emergency", Reason: "student collapsed in the gym; chart needed for allergies"}
	}, only(201, nurse, co)},
	"GET /v1/access/break-glass": {func(*world, bool) (string, any) { return "/v1/access/break-glass", nil },
		only(200, co)},
	"POST /v1/exports": {func(w *world, _ bool) (string, any) {
		return "/v1/exports", readapi.ExportRequest{StudentID: w.studentIn, Recipient: "District counsel",
			Purpose: "records request"}
	}, only(202, co, domain.RoleAuditor)},
	"GET /v1/exports/:id": {func(w *world, _ bool) (string, any) { return "/v1/exports/" + w.doneExport(), nil },
		only(200, co, domain.RoleAuditor)},
	"GET /v1/exports/:id/bundle": {func(w *world, _ bool) (string, any) {
		return "/v1/exports/" + w.doneExport() + "/bundle", nil
	}, only(200, co, domain.RoleAuditor)},
}

// TestAuthorizationMatrix calls every route as every role, on a target in
// the caller's scope and one out of it, with real tokens over real HTTP. A
// route missing from the matrix fails the test, so no endpoint can be
// added unguarded.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	for _, route := range w.api.Routes() {
		key := route.Method + " " + route.Path
		c, ok := matrixRow(route)
		if !ok {
			t.Errorf("route %s has no row in the authorization matrix", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			w.t = t
			for _, role := range domain.Roles {
				for _, in := range []bool{true, false} {
					token := w.tokens[role]
					if key == "POST /v1/auth/logout" {
						token = w.login(w.users[role]).AccessToken
					}
					path, body := c.request(w, in)
					got := w.call(route.Method, path, token, body, nil)
					want := c.want(role, in)
					if want == allowed && got != 401 && got != 403 && got < 500 {
						continue
					}
					if got != want {
						t.Errorf("%s, in scope %v: status %d, want %d", role, in, got, want)
					}
				}
			}
			if !route.Access.Public {
				path, body := c.request(w, true)
				if got := w.call(route.Method, path, "", body, nil); got != http.StatusUnauthorized {
					t.Errorf("without a token: status %d, want 401", got)
				}
			}
		})
	}
}

// events returns the types of the events of one stream.
func (w *world) events(stream string) []string {
	evs, err := w.log.ReadStream(context.Background(), stream, eventstore.ReadOptions{})
	if err != nil {
		w.t.Fatalf("read %s: %v", stream, err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	return types
}

func TestSessionEndsAtLogout(t *testing.T) {
	w := newWorld(t)
	tok := w.login(w.users[sys])
	if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolIn, tok.AccessToken, nil, nil); got != 200 {
		t.Fatalf("before logout: %d", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/logout", tok.AccessToken, nil, nil); got != 204 {
		t.Fatalf("logout: %d", got)
	}
	if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolIn, tok.AccessToken, nil, nil); got != 401 {
		t.Errorf("access token after logout: %d, want 401", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/refresh", "", readapi.RefreshRequest{RefreshToken: tok.RefreshToken}, nil); got != 401 {
		t.Errorf("refresh after logout: %d, want 401", got)
	}
}

func TestRefreshTokenReuseEndsTheSession(t *testing.T) {
	w := newWorld(t)
	first := w.login(w.users[nurse])
	var second readapi.TokenResponse
	if got := w.call(http.MethodPost, "/v1/auth/refresh", "", readapi.RefreshRequest{RefreshToken: first.RefreshToken}, &second); got != 200 {
		t.Fatalf("first refresh: %d", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/refresh", "", readapi.RefreshRequest{RefreshToken: first.RefreshToken}, nil); got != 401 {
		t.Fatalf("reused refresh token: %d, want 401", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/refresh", "", readapi.RefreshRequest{RefreshToken: second.RefreshToken}, nil); got != 401 {
		t.Errorf("the session's newest refresh token after a reuse: %d, want 401", got)
	}
	if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolIn, second.AccessToken, nil, nil); got != 401 {
		t.Errorf("access token after a reuse: %d, want 401", got)
	}
	sessionID, _, _ := strings.Cut(first.RefreshToken, ".")
	want := []string{"SessionStarted", "SessionRefreshed", "SessionEnded"}
	if got := w.events(domain.SessionStream(sessionID)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("session events: %v, want %v", got, want)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	w := newWorld(t)
	email := w.users[nurse]
	for i := range 5 {
		got := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: email, Password: "Wrong-Password-123"}, nil)
		if got != 401 {
			t.Fatalf("bad password %d: %d", i, got)
		}
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: email, Password: password}, nil); got != 401 {
		t.Fatalf("right password while locked: %d, want 401", got)
	}
	var user readapi.UserResponse
	id := w.accountID(email)
	if w.call(http.MethodGet, "/v1/users/"+id, w.tokens[sys], nil, &user); !user.Locked {
		t.Fatalf("account not shown locked: %+v", user)
	}
	if got := w.call(http.MethodPost, "/v1/users/"+id+"/unlock", w.tokens[sys], nil, nil); got != 200 {
		t.Fatalf("unlock: %d", got)
	}
	w.login(email)
	types := w.events(domain.UserStream(id))
	failed, locked := 0, 0
	for _, typ := range types {
		failed += btoi(typ == "LoginFailed")
		locked += btoi(typ == "UserLocked")
	}
	if failed != 6 || locked != 1 || types[len(types)-1] != "LoginSucceeded" {
		t.Errorf("account events: %v", types)
	}
}

func (w *world) accountID(email string) string {
	evs, err := w.log.ReadStream(context.Background(), domain.EmailStream(email), eventstore.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	var r domain.EmailReserved
	json.Unmarshal(evs[0].Data, &r)
	return r.UserID
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestUnknownAddressIsRecorded(t *testing.T) {
	w := newWorld(t)
	got := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: "nobody@district.example", Password: password}, nil)
	if got != 401 {
		t.Fatalf("unknown address: %d", got)
	}
	if types := w.events(domain.LoginAttemptsStream("nobody@district.example")); len(types) != 1 || types[0] != "LoginFailed" {
		t.Errorf("login attempts: %v", types)
	}
}

func TestBreakGlassGrantExpires(t *testing.T) {
	w := newWorld(t)
	var grant readapi.BreakGlassGrant
	got := w.call(http.MethodPost, "/v1/access/break-glass", w.tokens[nurse], readapi.BreakGlassRequest{
		StudentID: uuid.NewString(), ReasonCode: "medical_emergency",
		Reason: "anaphylaxis in class; need the allergy list now", Minutes: 30,
	}, &grant)
	if got != 201 || !grant.Active || grant.ExpiresAt.Sub(grant.OpenedAt) != 30*time.Minute {
		t.Fatalf("open: %d %+v", got, grant)
	}
	list := func() readapi.BreakGlassList {
		var l readapi.BreakGlassList
		w.call(http.MethodGet, fmt.Sprintf("/v1/access/break-glass?after=%d", w.head()), w.tokens[co], nil, &l)
		return l
	}
	if l := list(); len(l.Grants) != 1 || !l.Grants[0].Active {
		t.Fatalf("listed: %+v", l)
	}
	w.clock.Add(31 * time.Minute)
	// Access tokens live 15 minutes: both log in again.
	w.tokens[co] = w.login(w.users[co]).AccessToken
	w.tokens[nurse] = w.login(w.users[nurse]).AccessToken
	if l := list(); len(l.Grants) != 1 || l.Grants[0].Active {
		t.Errorf("after 31 minutes: %+v", l)
	}
	short := readapi.BreakGlassRequest{StudentID: uuid.NewString(), ReasonCode: "medical_emergency", Reason: "because"}
	if got := w.call(http.MethodPost, "/v1/access/break-glass", w.tokens[nurse], short, nil); got != 400 {
		t.Errorf("a reason of one word: %d, want 400", got)
	}
}

func TestSecondFactor(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens[nurse]
	var secret readapi.TOTPSecret
	if got := w.call(http.MethodPost, "/v1/auth/totp/secret", tok, nil, &secret); got != 200 || secret.Secret == "" {
		t.Fatalf("secret: %d %+v", got, secret)
	}
	code, err := totp.GenerateCode(secret.Secret, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := w.call(http.MethodPost, "/v1/auth/totp", tok, readapi.TOTPEnrolment{Secret: secret.Secret, Code: code}, nil); got != 204 {
		t.Fatalf("enrol: %d", got)
	}
	// The log holds the secret sealed, never in clear.
	events, err := w.log.ReadAll(t.Context(), 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	enrolments := 0
	for _, e := range events {
		if bytes.Contains(e.Data, []byte(secret.Secret)) {
			t.Errorf("event %d (%s) holds the second factor's secret in clear", e.Position, e.Type)
		}
		if e.Type == (domain.TOTPEnrolled{}).EventType() {
			enrolments++
		}
	}
	if enrolments != 1 {
		t.Errorf("%d TOTPEnrolled events, want 1", enrolments)
	}
	login := readapi.LoginRequest{Email: w.users[nurse], Password: password}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", login, nil); got != 401 {
		t.Errorf("login without the code: %d, want 401", got)
	}
	login.TOTP = code
	if got := w.call(http.MethodPost, "/v1/auth/login", "", login, nil); got != 200 {
		t.Errorf("login with the code: %d, want 200", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", login, nil); got != 401 {
		t.Errorf("the same code again: %d, want 401", got)
	}
	w.clock.Add(30 * time.Second)
	if login.TOTP, err = totp.GenerateCode(secret.Secret, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", login, nil); got != 200 {
		t.Errorf("the next code: %d, want 200", got)
	}
}

func TestChangePassword(t *testing.T) {
	w := newWorld(t)
	next := "Another-Good-Passphrase-7"
	change := readapi.PasswordChange{CurrentPassword: password, NewPassword: "weak"}
	if got := w.call(http.MethodPost, "/v1/auth/password", w.tokens[co], change, nil); got != 400 {
		t.Fatalf("weak new password: %d, want 400", got)
	}
	change.NewPassword = next
	if got := w.call(http.MethodPost, "/v1/auth/password", w.tokens[co], change, nil); got != 204 {
		t.Fatalf("change: %d", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: w.users[co], Password: password}, nil); got != 401 {
		t.Errorf("old password: %d, want 401", got)
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", readapi.LoginRequest{Email: w.users[co], Password: next}, nil); got != 200 {
		t.Errorf("new password: %d, want 200", got)
	}
}

func TestLoginRateLimit(t *testing.T) {
	w := newWorld(t)
	byAccount, err := auth.NewLimiter(rate.Every(time.Minute), 3, 100)
	if err != nil {
		t.Fatal(err)
	}
	api, err := readapi.New(readapi.Config{
		Logger: zerolog.Nop(),
		Routes: readapi.AppRoutes(readapi.Services{
			Accounts: w.accounts, Log: w.log, Now: w.clock.Now, LoginByAccount: byAccount,
		}),
		Authenticate: readapi.Authenticator(w.accounts),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.srv = httptest.NewServer(api.Handler())
	defer w.srv.Close()
	bad := readapi.LoginRequest{Email: w.users[nurse], Password: "Wrong-Password-123"}
	for i := range 3 {
		if got := w.call(http.MethodPost, "/v1/auth/login", "", bad, nil); got != 401 {
			t.Fatalf("attempt %d: %d, want 401", i, got)
		}
	}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", bad, nil); got != http.StatusTooManyRequests {
		t.Fatalf("fourth attempt in a minute: %d, want 429", got)
	}
	other := readapi.LoginRequest{Email: w.users[co], Password: password}
	if got := w.call(http.MethodPost, "/v1/auth/login", "", other, nil); got != 200 {
		t.Errorf("another account meanwhile: %d, want 200", got)
	}
}

// matrixRow returns the row of a route: from the table, or, for the
// routes on a student's chart, the rule they share: the roles with the
// route's capability pass in scope (a student of their school) and get
// 403 out of it; every other role gets 403.
func matrixRow(r readapi.Route) (matrixCase, bool) {
	if c, ok := matrix[r.Method+" "+r.Path]; ok {
		return c, true
	}
	rest, onStudent := strings.CutPrefix(r.Path, "/v1/students/:id")
	if !onStudent {
		return matrixCase{}, false
	}
	return matrixCase{
		request: func(w *world, in bool) (string, any) {
			id := w.studentOut
			if in {
				id = w.studentIn
			}
			path := "/v1/students/" + id + rest
			for _, p := range []string{":entry", ":order", ":alert", ":contact"} {
				path = strings.ReplaceAll(path, p, uuid.NewString())
			}
			return path, map[string]any{}
		},
		want: func(role domain.Role, in bool) int {
			switch {
			case !auth.Can(role, r.Access.Capability):
				return http.StatusForbidden
			case r.Method == http.MethodGet && auth.Can(role, auth.ReadHistory):
				return allowed // a compliance officer investigating
			case !in:
				return http.StatusForbidden
			}
			return allowed
		},
	}, true
}
