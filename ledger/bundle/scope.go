package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/whitecross/whitecross/eventstore"
)

// Scope says which events of the log a bundle holds: exactly one of a
// student's, an account's, those recorded in a time range, or all.
type Scope struct {
	// StudentID selects the events that concern the student, as
	// Options.Describe tells.
	StudentID string `json:"student_id,omitempty"`
	// ActorID selects the events the account caused: those whose metadata
	// names it as actor_id.
	ActorID string `json:"actor_id,omitempty"`
	// From and To select the events recorded at From or later and before
	// To.
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
	// All selects every event up to the checkpoint.
	All bool `json:"all,omitempty"`
}

// Validate refuses a scope that is not exactly one of the four, and a
// time range that is empty or half given.
func (s Scope) Validate() error {
	kinds := 0
	ranged := s.From != nil || s.To != nil
	for _, set := range []bool{s.StudentID != "", s.ActorID != "", ranged, s.All} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds != 1:
		return errors.New("scope: want exactly one of student_id, actor_id, from and to, or all")
	case (s.From == nil) != (s.To == nil):
		return errors.New("scope: from and to go together")
	case s.From != nil && !s.To.After(*s.From):
		return errors.New("scope: to must be after from")
	}
	return nil
}

// contiguous reports whether the scope selects runs of consecutive leaves,
// which range proofs prove at once; a student's or an account's events are
// scattered over the log and each gets an inclusion proof.
func (s Scope) contiguous() bool { return s.All || s.From != nil }

// selects reports whether the scope holds e, which concerns students.
func (s Scope) selects(e *eventstore.Event, students []string) bool {
	switch {
	case s.All:
		return true
	case s.From != nil:
		return !e.RecordedAt.Before(*s.From) && e.RecordedAt.Before(*s.To)
	case s.ActorID != "":
		return actorOf(e.Metadata) == s.ActorID
	}
	return slices.Contains(students, s.StudentID)
}

// actorOf returns the actor_id of stored metadata, "" when it has none.
func actorOf(metadata []byte) string {
	if !bytes.Contains(metadata, []byte(`"actor_id"`)) {
		return ""
	}
	var m struct {
		ActorID string `json:"actor_id"`
	}
	json.Unmarshal(metadata, &m)
	return m.ActorID
}

// studentOfStream is the student a stream named student-<id> belongs to,
// the only thing a bundle knows of students without Options.Describe.
func studentOfStream(stream string) []string {
	if id, ok := strings.CutPrefix(stream, "student-"); ok {
		return []string{id}
	}
	return nil
}
