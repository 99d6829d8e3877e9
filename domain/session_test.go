package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// refreshHash returns the refresh hash of token.
func refreshHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

var (
	hash1 = refreshHash("token one")
	hash2 = refreshHash("token two")
	hash3 = refreshHash("token three")
)

// sessionEvents has one event of each session type.
var sessionEvents = []Event{
	SessionStarted{
		SessionID:              sessionID,
		UserID:                 userID,
		RefreshHash:            hash1,
		StartedAt:              t0,
		IdleTimeoutSeconds:     1800,
		AbsoluteTimeoutSeconds: 43200,
	},
	SessionRefreshed{RefreshHash: hash2, PreviousHash: hash1, At: t0.Add(10 * time.Minute)},
	SessionEnded{Reason: EndLogout, At: t0.Add(20 * time.Minute)},
}

func validStartSession() StartSession {
	return StartSession{
		SessionID:       sessionID,
		UserID:          userID,
		RefreshHash:     hash1,
		IdleTimeout:     30 * time.Minute,
		AbsoluteTimeout: 12 * time.Hour,
	}
}

func TestNewSession(t *testing.T) {
	cases := []struct {
		name   string
		change func(*StartSession)
		refuse []string
	}{
		{"valid", func(*StartSession) {}, nil},
		{"idle equal to absolute", func(c *StartSession) { c.IdleTimeout = c.AbsoluteTimeout }, nil},
		{
			"session_id missing",
			func(c *StartSession) { c.SessionID = "" },
			[]string{"invalid session_id"},
		},
		{"user_id not an ID", func(c *StartSession) { c.UserID = "joy" }, []string{"invalid user_id"}},
		{
			"refresh_hash missing",
			func(c *StartSession) { c.RefreshHash = "" },
			[]string{"invalid refresh_hash"},
		},
		{
			"refresh_hash upper case",
			func(c *StartSession) { c.RefreshHash = strings.ToUpper(hash1) },
			[]string{"invalid refresh_hash"},
		},
		{
			"refresh_hash a token rather than its hash",
			func(c *StartSession) { c.RefreshHash = "token one" },
			[]string{"invalid refresh_hash"},
		},
		{
			"idle_timeout zero",
			func(c *StartSession) { c.IdleTimeout = 0 },
			[]string{"invalid idle_timeout"},
		},
		{
			"idle_timeout not whole seconds",
			func(c *StartSession) { c.IdleTimeout = 1500 * time.Millisecond },
			[]string{"invalid idle_timeout"},
		},
		{
			"absolute_timeout negative",
			func(c *StartSession) { c.AbsoluteTimeout = -time.Hour },
			[]string{"invalid absolute_timeout"},
		},
		{
			"idle longer than absolute",
			func(c *StartSession) { c.IdleTimeout = 13 * time.Hour },
			[]string{"invalid idle_timeout"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := validStartSession()
			c.change(&cmd)
			events, err := NewSession(cmd, t0)
			checkRefusals(t, err, c.refuse, "token one")
			if (err == nil) != (len(events) == 1) {
				t.Errorf("events = %#v with err %v, want one event exactly when valid", events, err)
			}
		})
	}
}

// newSession returns the session validStartSession describes, started at
// t0, with setup applied.
func newSession(t *testing.T, setup []Event) *Session {
	t.Helper()
	events, err := NewSession(validStartSession(), t0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FoldSession(append(events, setup...))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefresh(t *testing.T) {
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	refreshed := []Event{SessionRefreshed{RefreshHash: hash2, PreviousHash: hash1, At: minute(10)}}
	ended := []Event{SessionEnded{Reason: EndLogout, At: minute(5)}}

	cases := []struct {
		name         string
		setup        []Event
		presented    string
		next         string
		now          time.Time
		lastActivity time.Time
		want         []Event
		refuse       []string
	}{
		{
			name:      "current token",
			presented: hash1, next: hash2, now: minute(5),
			want: []Event{SessionRefreshed{RefreshHash: hash2, PreviousHash: hash1, At: minute(5)}},
		},
		{
			name:  "current token after a refresh",
			setup: refreshed, presented: hash2, next: hash3, now: minute(35),
			want: []Event{SessionRefreshed{RefreshHash: hash3, PreviousHash: hash2, At: minute(35)}},
		},
		{
			name:  "exchanged token comes back",
			setup: refreshed, presented: hash1, next: hash3, now: minute(11),
			want:   []Event{SessionEnded{Reason: EndRefreshReuse, At: minute(11)}},
			refuse: []string{"refresh_reuse refresh_token"},
		},
		{
			name:  "after the session ended",
			setup: ended, presented: hash1, next: hash2, now: minute(6),
			refuse: []string{"session_ended"},
		},
		{
			name:      "idle since the start",
			presented: hash1, next: hash2, now: minute(30),
			want:   []Event{SessionEnded{Reason: EndIdle, At: minute(30)}},
			refuse: []string{"session_ended"},
		},
		{
			name:      "idle since the last activity",
			presented: hash1, next: hash2, now: minute(50), lastActivity: minute(20),
			want:   []Event{SessionEnded{Reason: EndIdle, At: minute(50)}},
			refuse: []string{"session_ended"},
		},
		{
			name:      "recent activity keeps the session",
			presented: hash1, next: hash2, now: minute(49), lastActivity: minute(20),
			want: []Event{SessionRefreshed{RefreshHash: hash2, PreviousHash: hash1, At: minute(49)}},
		},
		{
			name:      "past the absolute timeout",
			presented: hash1, next: hash2, now: minute(720), lastActivity: minute(719),
			want:   []Event{SessionEnded{Reason: EndExpired, At: minute(720)}},
			refuse: []string{"session_ended"},
		},
		{
			name:  "exchanged token past the absolute timeout",
			setup: refreshed, presented: hash1, next: hash3, now: minute(721),
			lastActivity: minute(720),
			want:         []Event{SessionEnded{Reason: EndExpired, At: minute(721)}},
			refuse:       []string{"session_ended"},
		},
		{
			name:      "token of another session",
			presented: hash3, next: hash2, now: minute(5),
			refuse: []string{"invalid refresh_token"},
		},
		{
			name:      "new hash malformed",
			presented: hash1, next: "token two", now: minute(5),
			refuse: []string{"invalid refresh_hash"},
		},
		{
			name:      "new hash the current one",
			presented: hash1, next: hash1, now: minute(5),
			refuse: []string{"invalid refresh_hash"},
		},
		{
			name:  "new hash an exchanged one",
			setup: refreshed, presented: hash2, next: hash1, now: minute(15),
			refuse: []string{"invalid refresh_hash"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t, c.setup)
			events, err := s.Refresh(c.presented, c.next, c.now, c.lastActivity)
			checkRefusals(t, err, c.refuse, c.presented)
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestRefreshReuseEndsSession(t *testing.T) {
	s := newSession(t, nil)
	events, err := s.Refresh(hash1, hash2, t0.Add(time.Minute), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, events)

	events, err = s.Refresh(hash1, hash3, t0.Add(2*time.Minute), time.Time{})
	if ErrorCode(err) != CodeRefreshReuse {
		t.Fatalf("reuse: err = %v, want code %q", err, CodeRefreshReuse)
	}
	mustApply(t, s, events)

	if s.Active(t0.Add(3*time.Minute), time.Time{}) {
		t.Error("Active after reuse = true, want false")
	}
	_, err = s.Refresh(hash2, hash3, t0.Add(3*time.Minute), time.Time{})
	if ErrorCode(err) != CodeSessionEnded {
		t.Errorf("legitimate holder after reuse: err = %v, want code %q", err, CodeSessionEnded)
	}
}

func TestSessionActive(t *testing.T) {
	minute := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	cases := []struct {
		name         string
		setup        []Event
		now          time.Time
		lastActivity time.Time
		want         bool
		wantEnd      []Event // of EndIfTimedOut
	}{
		{name: "fresh", now: minute(1), want: true},
		{
			name: "idle", now: minute(30), want: false,
			wantEnd: []Event{SessionEnded{Reason: EndIdle, At: minute(30)}},
		},
		{name: "recently active", now: minute(40), lastActivity: minute(20), want: true},
		{
			name: "refreshed recently", now: minute(40), want: true,
			setup: []Event{SessionRefreshed{RefreshHash: hash2, PreviousHash: hash1, At: minute(15)}},
		},
		{
			name: "expired", now: minute(720), lastActivity: minute(719), want: false,
			wantEnd: []Event{SessionEnded{Reason: EndExpired, At: minute(720)}},
		},
		{
			name: "ended", now: minute(2), want: false,
			setup: []Event{SessionEnded{Reason: EndRevoked, At: minute(1)}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t, c.setup)
			if got := s.Active(c.now, c.lastActivity); got != c.want {
				t.Errorf("Active = %v, want %v", got, c.want)
			}
			if got := s.EndIfTimedOut(c.now, c.lastActivity); !reflect.DeepEqual(got, c.wantEnd) {
				t.Errorf("EndIfTimedOut = %#v, want %#v", got, c.wantEnd)
			}
		})
	}
}

func TestSessionEnd(t *testing.T) {
	ended := []Event{SessionEnded{Reason: EndLogout, At: t0}}
	cases := []struct {
		name   string
		setup  []Event
		reason EndReason
		want   []Event
		refuse []string
	}{
		{
			name:   "logout",
			reason: EndLogout,
			want:   []Event{SessionEnded{Reason: EndLogout, At: t0.Add(time.Minute)}},
		},
		{
			name:   "user deactivated",
			reason: EndUserDeactivated,
			want:   []Event{SessionEnded{Reason: EndUserDeactivated, At: t0.Add(time.Minute)}},
		},
		{
			name:   "access changed",
			reason: EndAccessChanged,
			want:   []Event{SessionEnded{Reason: EndAccessChanged, At: t0.Add(time.Minute)}},
		},
		{name: "already ended", setup: ended, reason: EndRevoked},
		{name: "unknown reason", reason: "bored", refuse: []string{"invalid reason"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t, c.setup)
			events, err := s.End(c.reason, t0.Add(time.Minute))
			checkRefusals(t, err, c.refuse, "")
			if !reflect.DeepEqual(events, c.want) {
				t.Errorf("events = %#v, want %#v", events, c.want)
			}
		})
	}
}

func TestSessionFold(t *testing.T) {
	history, err := NewSession(validStartSession(), t0)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(t, nil)
	var noActivity time.Time
	steps := []func(*Session) ([]Event, error){
		func(s *Session) ([]Event, error) {
			return s.Refresh(hash1, hash2, t0.Add(time.Minute), noActivity)
		},
		func(s *Session) ([]Event, error) {
			return s.Refresh(hash2, hash3, t0.Add(2*time.Minute), noActivity)
		},
		func(s *Session) ([]Event, error) { return s.End(EndLogout, t0.Add(3*time.Minute)) },
	}
	for _, step := range steps {
		events, err := step(s)
		if err != nil {
			t.Fatal(err)
		}
		mustApply(t, s, events)
		history = append(history, events...)
	}

	want := &Session{
		ID:              sessionID,
		UserID:          userID,
		RefreshHash:     hash3,
		StartedAt:       t0,
		RenewedAt:       t0.Add(2 * time.Minute),
		IdleTimeout:     30 * time.Minute,
		AbsoluteTimeout: 12 * time.Hour,
		EndReason:       EndLogout,
		EndedAt:         t0.Add(3 * time.Minute),
		Revision:        3,
		usedHashes:      []string{hash1, hash2},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("applied one by one:\n got %#v\nwant %#v", s, want)
	}
	for name, list := range map[string][]Event{"events": history, "decoded": roundTrip(t, history)} {
		got, err := FoldSession(list)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("FoldSession(%s) = %#v, %v\nwant %#v", name, got, err, want)
		}
	}
}

func TestFoldSessionRefusals(t *testing.T) {
	cases := []struct {
		name   string
		events []Event
		want   error
	}{
		{"no events", nil, ErrNoEvents},
		{"refresh before start", sessionEvents[1:], ErrUnexpectedEvent},
		{"started twice", []Event{sessionEvents[0], sessionEvents[0]}, ErrUnexpectedEvent},
		{"user event", []Event{sessionEvents[0], UserReactivated{}}, ErrUnexpectedEvent},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := FoldSession(c.events); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
}
