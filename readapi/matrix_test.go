package readapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
	"github.com/whitecross/whitecross/internal/testclock"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

const password = "Correct-Horse-Battery-9"

// world is a whole service on a fresh database: two districts with two
// schools each, a student at the first school of each, one account per
// role, all in the first district.
type world struct {
	t        testing.TB
	srv      *httptest.Server
	api      *readapi.Server
	accounts *commands.Accounts
	clinic   *commands.Clinic
	runner   *projections.Runner
	db       *pgxpool.Pool // the read models' database
	log      eventstore.Store
	clock    *testclock.Clock
	exports  *exportFixture

	districtIn, districtOut string
	schoolIn, schoolOut     string
	// schoolIn2 and schoolOut2 are the districts' second schools.
	schoolIn2, schoolOut2 string
	studentIn, studentOut string
	users                 map[domain.Role]string // role → email
	tokens                map[domain.Role]string // role → access token

	// queries are the query parameters each route's handler read, by
	// "METHOD path".
	mu      sync.Mutex
	queries map[string][]string
	// nurses are more nurses' emails, made as needed by nurseAt;
	// fixtureToken is the access token of the one out of scope.
	nurses       map[string]string
	fixtureToken string
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
	w := &world{t: t, log: l, clock: testclock.New(time.Now().UTC()),
		users: map[domain.Role]string{}, tokens: map[domain.Role]string{},
		queries: map[string][]string{}, nurses: map[string]string{}}
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
	w.runner, err = projections.New(pool, l, projections.Config{}, projections.All(l)...)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.runner.Run(runCtx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	auditor := commands.NewAuditor(l, w.clock.Now)
	routes := readapi.Routes(readapi.Services{
		Accounts: w.accounts, Clinic: w.clinic, Auditor: auditor, Log: l, Now: w.clock.Now,
	}, readapi.ReadModels{Runner: w.runner, DB: pool, Auditor: auditor, Log: l, Now: w.clock.Now})
	routes = append(routes, w.exportRoutes(pool, auditor)...)
	w.api, err = readapi.New(readapi.Config{
		Logger:       zerolog.Nop(),
		Routes:       w.noteQueries(routes),
		Authenticate: readapi.Authenticator(w.accounts),
		Auditor:      auditor,
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
	if w.schoolIn2, _, err = w.accounts.CreateSchool(ctx, system, commands.Meta{}, w.districtIn, "In 2"); err != nil {
		w.t.Fatal(err)
	}
	if w.schoolOut2, _, err = w.accounts.CreateSchool(ctx, system, commands.Meta{}, w.districtOut, "Out 2"); err != nil {
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
	return w.createUserAt(email, role, school)
}

// createUserAt makes an account as the system, at schools when its role
// works at schools, and returns its ID.
func (w *world) createUserAt(email string, role domain.Role, schools ...string) string {
	in := commands.NewAccount{Email: email, DisplayName: "Someone", Roles: []domain.Role{role}, Password: password}
	switch role {
	case domain.RoleNurse, domain.RoleSchoolAdmin:
		in.Schools = schools
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
// out when out is not nil, and a problem into problem when one is given.
func (w *world) call(method, path, token string, body, out any, problem ...any) int {
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
	switch {
	case out != nil && resp.StatusCode < 300:
		json.NewDecoder(resp.Body).Decode(out)
	case len(problem) > 0 && resp.StatusCode >= 300:
		json.NewDecoder(resp.Body).Decode(problem[0])
	}
	return resp.StatusCode
}

// TestAuthorizationMatrix calls every route as every role, on a target in
// the caller's scope and one out of it, with real tokens over real HTTP,
// and wants the status its row states. A route with no row fails the
// test, so no endpoint can be added unguarded. The handlers' reads of
// query parameters are noted on the way: each must be one its route
// declares, and so one the OpenAPI document names.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	rows := matrixRows()
	for _, route := range w.api.Routes() {
		key := route.Method + " " + route.Path
		c, ok := rows[key]
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
					got, detail := w.callDetail(route.Method, path, token, body)
					if want := c.want.status(role, in); got != want {
						t.Errorf("%s, in scope %v: status %d, want %d (%s)", role, in, got, want, detail)
					}
				}
			}
			if !route.Access.Public {
				path, body := c.request(w, true)
				if got := w.call(route.Method, path, "", body, nil); got != http.StatusUnauthorized {
					t.Errorf("without a token: status %d, want 401", got)
				}
			}
			w.checkQueries(route)
		})
	}
}

// checkQueries fails the test when the handler of route read a query
// parameter that route does not declare.
func (w *world) checkQueries(route readapi.Route) {
	w.t.Helper()
	var declared []string
	for _, q := range route.Query {
		declared = append(declared, q.Name)
	}
	for _, name := range w.queried(route.Method + " " + route.Path) {
		if !slices.Contains(declared, name) {
			w.t.Errorf("the handler reads the query parameter %q, which the route does not declare", name)
		}
	}
}

// queryNoter is the context a handler sees in the tests: it notes each
// query parameter the handler reads.
type queryNoter struct {
	echo.Context
	note func(name string)
}

func (q queryNoter) QueryParam(name string) string {
	q.note(name)
	return q.Context.QueryParam(name)
}

// noteQueries wraps each route's handler so that the world notes the
// query parameters it reads.
func (w *world) noteQueries(routes []readapi.Route) []readapi.Route {
	for i, r := range routes {
		key, next := r.Method+" "+r.Path, r.Handler
		routes[i].Handler = func(c echo.Context) error {
			return next(queryNoter{Context: c, note: func(name string) {
				w.mu.Lock()
				defer w.mu.Unlock()
				if !slices.Contains(w.queries[key], name) {
					w.queries[key] = append(w.queries[key], name)
				}
			}})
		}
	}
	return routes
}

// queried returns the query parameters the handler of route key read.
func (w *world) queried(key string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.queries[key])
}

// callDetail sends one request and returns its status and, for a
// problem, its detail and the fields or checks it names.
func (w *world) callDetail(method, path, token string, body any) (int, string) {
	w.t.Helper()
	var p struct {
		Detail string                `json:"detail"`
		Errors []readapi.FieldError  `json:"errors"`
		Checks []readapi.FailedCheck `json:"checks"`
	}
	status := w.call(method, path, token, body, nil, &p)
	return status, fmt.Sprintf("%s %+v %+v", p.Detail, p.Errors, p.Checks)
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
		StudentID: w.studentOut, ReasonCode: "medical_emergency",
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
	short := readapi.BreakGlassRequest{StudentID: w.studentOut, ReasonCode: "medical_emergency", Reason: "because"}
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

// matrixRow returns the row of a route, for the tests that call every
// route once; false when the matrix has none.
func matrixRow(r readapi.Route) (matrixCase, bool) {
	c, ok := matrixRows()[r.Method+" "+r.Path]
	return c, ok
}
