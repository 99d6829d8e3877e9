package readapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// TestTokensRefusedOverHTTP presents forged, stale and tampered access
// tokens to the running server: each is answered 401, while the genuine
// token is accepted.
func TestTokensRefusedOverHTTP(t *testing.T) {
	w := newWorld(t)
	login := w.login(w.users[nurse])
	genuine := login.AccessToken
	sessionID, _, _ := strings.Cut(login.RefreshToken, ".")
	var claims auth.Claims
	if _, _, err := jwt.NewParser().ParseUnverified(genuine, &claims); err != nil {
		t.Fatal(err)
	}

	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey, _, err := newTokens(t).Issue(auth.Principal{UserID: claims.Subject, SessionID: sessionID,
		Roles: claims.Roles, Schools: claims.Schools}, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	tampered := withClaims(t, genuine, func(c map[string]any) { c["roles"] = []string{"compliance_officer"} })
	otherSchool := withClaims(t, genuine, func(c map[string]any) { c["schools"] = []string{w.schoolOut} })

	ended := w.login(w.users[nurse])
	if got := w.call(http.MethodPost, "/v1/auth/logout", ended.AccessToken, nil, nil); got != 204 {
		t.Fatalf("logout: %d", got)
	}

	path := "/v1/schools/" + w.schoolIn
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"genuine", genuine, 200},
		{"algorithm none", none, 401},
		{"signed with another key", wrongKey, 401},
		{"roles tampered with", tampered, 401},
		{"schools tampered with", otherSchool, 401},
		{"of an ended session", ended.AccessToken, 401},
		{"not a token", "not-a-token", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			if got := w.call(http.MethodGet, path, c.token, nil, nil); got != c.want {
				t.Errorf("status %d, want %d", got, c.want)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		w.t = t
		w.clock.Add(auth.DefaultTokenTTL + auth.DefaultTokenLeeway + time.Second)
		if got := w.call(http.MethodGet, path, genuine, nil, nil); got != 401 {
			t.Errorf("status %d, want 401", got)
		}
	})
}

// newTokens returns access tokens signed with a key of their own.
func newTokens(t *testing.T) *auth.Tokens {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(key, auth.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// withClaims returns token with its claims changed by change and its
// signature kept: a token tampered with.
func withClaims(t *testing.T, token string, change func(map[string]any)) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	change(claims)
	payload, err = json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

// TestAdministratorsEndSessionsOverHTTP: a school removed from an
// account, or its sessions revoked, and the access tokens of its
// sessions are refused at once.
func TestAdministratorsEndSessionsOverHTTP(t *testing.T) {
	w := newWorld(t)
	admin := w.tokens[dist] // the account works at two schools of the district
	cases := []struct {
		name   string
		method string
		path   func(id, session string) string
		body   any
	}{
		{"a school removed", http.MethodDelete, func(id, _ string) string {
			return "/v1/users/" + id + "/schools/" + w.schoolIn2
		}, nil},
		{"a role added", http.MethodPost, func(id, _ string) string { return "/v1/users/" + id + "/roles" },
			readapi.RolesRequest{Roles: roles(sch)}},
		{"one session revoked", http.MethodDelete, func(id, session string) string {
			return "/v1/users/" + id + "/sessions/" + session
		}, nil},
		{"every session revoked", http.MethodDelete, func(id, _ string) string {
			return "/v1/users/" + id + "/sessions"
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w.t = t
			email := strings.ReplaceAll(c.name, " ", "-") + "@district.example"
			id := w.createUserAt(email, domain.RoleNurse, w.schoolIn, w.schoolIn2)
			tok := w.login(email)
			session, _, _ := strings.Cut(tok.RefreshToken, ".")
			var open readapi.SessionList
			if got := w.call(http.MethodGet, "/v1/users/"+id+"/sessions", admin, nil, &open); got != 200 ||
				len(open.Sessions) != 1 || open.Sessions[0].ID != session {
				t.Fatalf("open sessions: %d %+v", got, open)
			}
			if got := w.call(c.method, c.path(id, session), admin, c.body, nil); got != 200 {
				t.Fatalf("%s: %d", c.name, got)
			}
			if got := w.call(http.MethodGet, "/v1/schools/"+w.schoolIn, tok.AccessToken, nil, nil); got != 401 {
				t.Errorf("the account's token afterwards: %d, want 401", got)
			}
			if got := w.call(http.MethodPost, "/v1/auth/refresh", "",
				readapi.RefreshRequest{RefreshToken: tok.RefreshToken}, nil); got != 401 {
				t.Errorf("its refresh token afterwards: %d, want 401", got)
			}
		})
	}
}
