package domain

import (
	"slices"
	"time"
)

// SessionStream returns the name of session id's stream.
func SessionStream(id string) string { return "session-" + id }

// SessionStarted opens a session after a successful login.
type SessionStarted struct {
	SessionID              string    `json:"session_id"`
	UserID                 string    `json:"user_id"`
	RefreshHash            string    `json:"refresh_hash"`
	StartedAt              time.Time `json:"started_at"`
	IdleTimeoutSeconds     int64     `json:"idle_timeout_seconds"`
	AbsoluteTimeoutSeconds int64     `json:"absolute_timeout_seconds"`
}

// SessionRefreshed exchanges the refresh token PreviousHash for a new one,
// RefreshHash. PreviousHash may never be exchanged again.
type SessionRefreshed struct {
	RefreshHash  string    `json:"refresh_hash"`
	PreviousHash string    `json:"previous_hash"`
	At           time.Time `json:"at"`
}

// EndReason says why a session ended.
type EndReason string

// The reasons for a SessionEnded.
const (
	EndLogout          EndReason = "logout"
	EndRefreshReuse    EndReason = "refresh_reuse" // an exchanged token came back
	EndIdle            EndReason = "idle"
	EndExpired         EndReason = "expired" // the absolute timeout passed
	EndRevoked         EndReason = "revoked" // by an administrator
	EndUserDeactivated EndReason = "user_deactivated"
	// EndAccessChanged: the account's roles or schools changed, so the
	// tokens that carry the old ones must stop working.
	EndAccessChanged EndReason = "access_changed"
)

// SessionEnded closes a session for good.
type SessionEnded struct {
	Reason EndReason `json:"reason"`
	At     time.Time `json:"at"`
}

// EventType returns "SessionStarted".
func (SessionStarted) EventType() string { return "SessionStarted" }

// EventType returns "SessionRefreshed".
func (SessionRefreshed) EventType() string { return "SessionRefreshed" }

// EventType returns "SessionEnded".
func (SessionEnded) EventType() string { return "SessionEnded" }

// Session is a login session, rebuilt from its stream by FoldSession.
//
// Its refresh token is opaque and known only to the client; the session
// holds refresh hashes, each the SHA-256 of a token as 64 lower-case hex
// characters. Hashes are compared with ==: how long comparing two digests
// takes tells nothing usable about a token.
//
// Request activity is not in the log, so the methods that judge idleness
// take lastActivity, the time of the session's latest request as the
// caller knows it (zero when it knows none); the session's start and its
// refreshes count as activity too.
type Session struct {
	ID          string
	UserID      string
	RefreshHash string // the hash of the one refresh token that may be exchanged
	StartedAt   time.Time
	// RenewedAt is the time of the start or of the latest refresh.
	RenewedAt       time.Time
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	EndReason       EndReason // empty while the session is open
	EndedAt         time.Time
	Revision        uint64 // stream revision of the last event applied

	// usedHashes are the refresh hashes already exchanged, oldest first.
	usedHashes []string
}

// StartSession is the command that opens a session.
type StartSession struct {
	SessionID   string
	UserID      string
	RefreshHash string
	// IdleTimeout ends the session after this long without activity;
	// AbsoluteTimeout ends it this long after its start, whatever happens.
	// Both are whole seconds.
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
}

// NewSession returns the SessionStarted that opens the session cmd
// describes at now, or the refusal of each invalid field (Errors,
// CodeInvalid): session_id and user_id IDs, refresh_hash a SHA-256 in hex,
// idle_timeout and absolute_timeout whole seconds, at least one, the idle
// one no longer than the absolute one. That the user may log in is
// RecordLoginAttempt's to decide.
func NewSession(cmd StartSession, now time.Time) ([]Event, error) {
	var errs Errors
	errs.add(checkID("session_id", cmd.SessionID, true))
	errs.add(checkID("user_id", cmd.UserID, true))
	errs.add(checkRefreshHash("refresh_hash", cmd.RefreshHash))
	idleErr := checkTimeout("idle_timeout", cmd.IdleTimeout)
	absoluteErr := checkTimeout("absolute_timeout", cmd.AbsoluteTimeout)
	if idleErr == nil && absoluteErr == nil && cmd.IdleTimeout > cmd.AbsoluteTimeout {
		idleErr = invalid("idle_timeout", "must not exceed the absolute timeout")
	}
	errs.add(idleErr)
	errs.add(absoluteErr)
	if errs != nil {
		return nil, errs
	}

	return []Event{SessionStarted{
		SessionID:              cmd.SessionID,
		UserID:                 cmd.UserID,
		RefreshHash:            cmd.RefreshHash,
		StartedAt:              now.UTC(),
		IdleTimeoutSeconds:     int64(cmd.IdleTimeout / time.Second),
		AbsoluteTimeoutSeconds: int64(cmd.AbsoluteTimeout / time.Second),
	}}, nil
}

func checkRefreshHash(field, hash string) *Error {
	if !validSHA256Hex(hash) {
		return invalid(field, "must be a SHA-256 as 64 lower-case hex characters")
	}
	return nil
}

func checkTimeout(field string, d time.Duration) *Error {
	if d < time.Second || d%time.Second != 0 {
		return invalid(field, "must be a whole number of seconds, at least one")
	}
	return nil
}

// FoldSession rebuilds a session from its events, oldest first. It returns
// ErrNoEvents for an empty list and ErrUnexpectedEvent for a list that
// does not start with SessionStarted or holds another aggregate's events.
func FoldSession(events []Event) (*Session, error) {
	return fold[Session]("session", events)
}

// Apply changes s by one event of its stream. It returns
// ErrUnexpectedEvent for an event that is not a session event or is out of
// place.
func (s *Session) Apply(e Event) error {
	started, isStart := e.(SessionStarted)
	switch {
	case s.ID == "" && !isStart:
		return unexpected("session", e, "before SessionStarted")
	case s.ID != "" && isStart:
		return unexpected("session", e, "after SessionStarted")
	case isStart:
		s.start(started)
		return nil
	}

	switch e := e.(type) {
	case SessionRefreshed:
		s.usedHashes = append(s.usedHashes, e.PreviousHash)
		s.RefreshHash = e.RefreshHash
		s.RenewedAt = e.At
	case SessionEnded:
		s.EndReason = e.Reason
		s.EndedAt = e.At
	default:
		return unexpected("session", e, "is not a session event")
	}
	s.Revision++
	return nil
}

func (s *Session) start(e SessionStarted) {
	*s = Session{
		ID:              e.SessionID,
		UserID:          e.UserID,
		RefreshHash:     e.RefreshHash,
		StartedAt:       e.StartedAt,
		RenewedAt:       e.StartedAt,
		IdleTimeout:     time.Duration(e.IdleTimeoutSeconds) * time.Second,
		AbsoluteTimeout: time.Duration(e.AbsoluteTimeoutSeconds) * time.Second,
	}
}

// Ended reports whether s has ended, for whatever reason.
func (s *Session) Ended() bool { return s.EndReason != "" }

// ExpiresAt returns the end of s's absolute timeout.
func (s *Session) ExpiresAt() time.Time { return s.StartedAt.Add(s.AbsoluteTimeout) }

// IdleAt returns when s becomes idle if nothing happens after its latest
// refresh and lastActivity.
func (s *Session) IdleAt(lastActivity time.Time) time.Time {
	latest := s.RenewedAt
	if lastActivity.After(latest) {
		latest = lastActivity
	}
	return latest.Add(s.IdleTimeout)
}

// Active reports whether s may serve a request at now: not ended, not
// past its absolute timeout, not idle.
func (s *Session) Active(now, lastActivity time.Time) bool {
	return !s.Ended() && s.timeout(now, lastActivity) == ""
}

// timeout returns EndExpired or EndIdle when s has run out at now, and ""
// while it has not.
func (s *Session) timeout(now, lastActivity time.Time) EndReason {
	switch {
	case !now.Before(s.ExpiresAt()):
		return EndExpired
	case !now.Before(s.IdleAt(lastActivity)):
		return EndIdle
	}
	return ""
}

// EndIfTimedOut returns the SessionEnded (EndExpired or EndIdle) of an open
// session that has run out at now, and no event otherwise.
func (s *Session) EndIfTimedOut(now, lastActivity time.Time) []Event {
	if s.Ended() {
		return nil
	}
	if reason := s.timeout(now, lastActivity); reason != "" {
		return []Event{SessionEnded{Reason: reason, At: now.UTC()}}
	}
	return nil
}

// Refresh exchanges the refresh token whose hash is presentedHash for the
// one whose hash is newHash, at now:
//   - a newHash that is not a SHA-256 in hex, or is one this session
//     already had: no event, CodeInvalid;
//   - s ended: no event, CodeSessionEnded;
//   - s past its absolute or idle timeout: SessionEnded (EndExpired or
//     EndIdle) and CodeSessionEnded;
//   - presentedHash is the current hash: SessionRefreshed;
//   - presentedHash was exchanged before, so the token was copied:
//     SessionEnded (EndRefreshReuse) and CodeRefreshReuse;
//   - anything else: no event, CodeInvalid.
//
// When Refresh returns both events and an error, append the events, then
// refuse the request with the error.
func (s *Session) Refresh(
	presentedHash string,
	newHash string,
	now time.Time,
	lastActivity time.Time,
) ([]Event, error) {
	if err := s.checkNewHash(newHash); err != nil {
		return nil, err
	}
	if s.Ended() {
		return nil, sessionEnded("the session has ended")
	}
	if ended := s.EndIfTimedOut(now, lastActivity); ended != nil {
		return ended, sessionEnded("the session has timed out")
	}

	now = now.UTC()
	switch {
	case presentedHash == s.RefreshHash:
		refreshed := SessionRefreshed{RefreshHash: newHash, PreviousHash: s.RefreshHash, At: now}
		return []Event{refreshed}, nil
	case slices.Contains(s.usedHashes, presentedHash):
		reuse := &Error{
			Code:    CodeRefreshReuse,
			Field:   "refresh_token",
			Message: "was already exchanged; the session has been ended",
		}
		return []Event{SessionEnded{Reason: EndRefreshReuse, At: now}}, reuse
	}
	return nil, invalid("refresh_token", "is not this session's")
}

func (s *Session) checkNewHash(hash string) *Error {
	if err := checkRefreshHash("refresh_hash", hash); err != nil {
		return err
	}
	if hash == s.RefreshHash || slices.Contains(s.usedHashes, hash) {
		return invalid("refresh_hash", "must not be one this session already had")
	}
	return nil
}

func sessionEnded(message string) *Error {
	return &Error{Code: CodeSessionEnded, Message: message}
}

// End closes s at now for reason: a SessionEnded, or no event when s has
// already ended. An unknown reason is refused (CodeInvalid).
func (s *Session) End(reason EndReason, now time.Time) ([]Event, error) {
	switch reason {
	case EndLogout, EndRefreshReuse, EndIdle, EndExpired, EndRevoked, EndUserDeactivated,
		EndAccessChanged:
	default:
		return nil, invalid("reason", "is not a known reason to end a session")
	}
	if s.Ended() {
		return nil, nil
	}
	return []Event{SessionEnded{Reason: reason, At: now.UTC()}}, nil
}
