package commands_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/internal/testclock"
)

func newClock() *testclock.Clock { return testclock.New(time.Now().UTC()) }

// nurseAccount creates a nurse at o's first school and returns its ID and
// address.
func (o *org) nurseAccount(t *testing.T) (string, string) {
	t.Helper()
	email := uuid.NewString() + "@district.example"
	id, _, err := o.a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: email, DisplayName: "Nurse", Roles: roles(domain.RoleNurse),
		Schools: []string{o.s1}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	return id, email
}

// TestIdleSessionRefusesTokens: a token still within its own lifetime
// stops working once its session has been idle for the idle timeout.
func TestIdleSessionRefusesTokens(t *testing.T) {
	c := newClock()
	a, _ := newAccountsWith(t, commands.Config{Now: c.Now, IdleTimeout: 5 * time.Minute,
		AbsoluteTimeout: time.Hour, SessionRecheck: time.Second})
	o := newOrg(t, a)
	_, email := o.nurseAccount(t)
	tokens := login(t, a, email)
	c.Add(4 * time.Minute)
	if _, err := a.Authenticate(t.Context(), tokens.AccessToken); err != nil {
		t.Fatalf("four minutes after login: %v", err)
	}
	c.Add(2 * time.Minute)
	if _, err := a.Authenticate(t.Context(), tokens.AccessToken); !errors.Is(err, commands.ErrSessionEnded) {
		t.Errorf("six minutes after login, without a refresh: %v, want ErrSessionEnded", err)
	}
}

// TestSessionCacheStaysBounded: the states of sessions not checked for a
// SessionRecheck are dropped, so the cache holds only recent sessions.
func TestSessionCacheStaysBounded(t *testing.T) {
	c := newClock()
	a, _ := newAccountsWith(t, commands.Config{Now: c.Now, SessionRecheck: 30 * time.Second})
	o := newOrg(t, a)
	var tokens []commands.Tokens
	for range 5 {
		_, email := o.nurseAccount(t)
		tokens = append(tokens, login(t, a, email))
	}
	for _, tok := range tokens {
		if _, err := a.Authenticate(t.Context(), tok.AccessToken); err != nil {
			t.Fatal(err)
		}
	}
	if n := commands.CachedSessions(a); n != 5 {
		t.Fatalf("%d sessions cached after five checks, want 5", n)
	}
	c.Add(31 * time.Second)
	if _, err := a.Authenticate(t.Context(), tokens[0].AccessToken); err != nil {
		t.Fatal(err)
	}
	if n := commands.CachedSessions(a); n != 1 {
		t.Errorf("%d sessions cached after the others went stale, want 1", n)
	}
}

// TestRevokeSessions: an administrator ends one session of an account, or
// all of them; a session of another account is not found, and an
// administrator out of scope is refused.
func TestRevokeSessions(t *testing.T) {
	a, l := newAccounts(t)
	o := newOrg(t, a)
	id, email := o.nurseAccount(t)
	first, second, third := login(t, a, email), login(t, a, email), login(t, a, email)
	_, otherEmail := o.nurseAccount(t)
	other := login(t, a, otherEmail)

	open, err := a.Sessions(t.Context(), o.sch, id)
	if err != nil || len(open) != 3 {
		t.Fatalf("open sessions: %d, %v; want 3", len(open), err)
	}
	if _, err := a.RevokeSession(t.Context(), o.sch, commands.Meta{}, id, other.SessionID); !errors.Is(err, commands.ErrNotFound) {
		t.Errorf("another account's session: %v, want ErrNotFound", err)
	}
	outsider := principal(domain.RoleSchoolAdmin, o.s2)
	if _, err := a.RevokeSessions(t.Context(), outsider, commands.Meta{}, id); err == nil {
		t.Error("an administrator of another school revoked the sessions")
	}
	if _, err := a.RevokeSession(t.Context(), o.sch, commands.Meta{}, id, first.SessionID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(t.Context(), first.AccessToken); !errors.Is(err, commands.ErrSessionEnded) {
		t.Errorf("the revoked session's token: %v", err)
	}
	if _, err := a.Authenticate(t.Context(), second.AccessToken); err != nil {
		t.Errorf("another session of the account after one was revoked: %v", err)
	}
	if _, err := a.RevokeSessions(t.Context(), o.sch, commands.Meta{}, id); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []commands.Tokens{second, third} {
		if _, err := a.Authenticate(t.Context(), tok.AccessToken); !errors.Is(err, commands.ErrSessionEnded) {
			t.Errorf("a token after all sessions were revoked: %v", err)
		}
		if e, ok := lastEvent(t, l, domain.SessionStream(tok.SessionID)).(domain.SessionEnded); !ok ||
			e.Reason != domain.EndRevoked {
			t.Errorf("the session's end: %#v", e)
		}
	}
	if _, err := a.Authenticate(t.Context(), other.AccessToken); err != nil {
		t.Errorf("another account's session: %v", err)
	}
	if open, err := a.Sessions(t.Context(), o.sch, id); err != nil || len(open) != 0 {
		t.Errorf("open sessions after revoking: %d, %v", len(open), err)
	}
}
