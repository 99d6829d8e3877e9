package commands_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// failingStore is a real log that refuses the first append to a stream
// whose name starts with prefix, as a connection lost at that moment
// would.
type failingStore struct {
	eventstore.Store
	prefix string
	failed atomic.Bool
}

var errConnectionLost = errors.New("connection lost")

func (s *failingStore) Append(
	ctx context.Context,
	stream string,
	expected eventstore.ExpectedRevision,
	events ...eventstore.EventData,
) (eventstore.AppendResult, error) {
	if strings.HasPrefix(stream, s.prefix) && s.failed.CompareAndSwap(false, true) {
		return eventstore.AppendResult{}, errConnectionLost
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

// TestFailedCreationLeavesTheAddressFree: whichever of the two writes of a
// creation fails, running the creation again completes it, with the same
// idempotency key or without one, and the address then logs in to the
// account made.
func TestFailedCreationLeavesTheAddressFree(t *testing.T) {
	for _, c := range []struct {
		name   string
		prefix string // of the stream whose append fails
		key    string
	}{
		{"the account's write fails", "user-", ""},
		{"the reservation fails", "email-", ""},
		{"the reservation fails, retried with the same key", "email-", "create-nurse-1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := newLog(t)
			store := &failingStore{Store: l, prefix: c.prefix}
			a := accountsOver(t, store, commands.Config{})
			in := commands.NewAccount{Email: "new.admin@district.example", DisplayName: "Admin",
				Roles: roles(domain.RoleSysadmin), Password: password}
			meta := commands.Meta{IdempotencyKey: c.key}
			if _, _, err := a.CreateUser(t.Context(), nil, meta, in); !errors.Is(err, errConnectionLost) {
				t.Fatalf("first try: %v, want the lost connection", err)
			}
			id, _, err := a.CreateUser(t.Context(), nil, meta, in)
			if err != nil {
				t.Fatalf("second try: %v", err)
			}
			if tokens := login(t, a, in.Email); tokens.UserID != id {
				t.Errorf("the address logs in to %s, want the account made, %s", tokens.UserID, id)
			}
			if _, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, in); domain.ErrorCode(err) != domain.CodeConflict {
				t.Errorf("a third creation with the address: %v, want a conflict", err)
			}
		})
	}
}

// TestAccountNeedsAPassword: an account is never created without a
// password, and nothing is written.
func TestAccountNeedsAPassword(t *testing.T) {
	a, l := newAccounts(t)
	_, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: "root@district.example", DisplayName: "Root", Roles: roles(domain.RoleSysadmin)})
	if got := outcome(err); got != "invalid password" {
		t.Fatalf("no password: %s (%v)", got, err)
	}
	if n, err := l.LastPosition(t.Context()); err != nil || n != 0 {
		t.Errorf("the log holds %d events after a refused creation (%v)", n, err)
	}
}

// TestBreakGlassNeedsAStudentOutOfScope: a grant is refused for a student
// the log does not hold, and for one at the caller's own school; it is
// opened for a student elsewhere, by a nurse or a compliance officer.
func TestBreakGlassNeedsAStudentOutOfScope(t *testing.T) {
	a, l := newAccounts(t)
	o := newOrg(t, a)
	clinic, err := commands.NewClinic(l, a, commands.ClinicConfig{})
	if err != nil {
		t.Fatal(err)
	}
	enrol := func(district, school string) string {
		registrar := principal(domain.RoleNurse, school)
		id, _, err := clinic.Enrol(t.Context(), registrar, commands.Meta{}, domain.EnrollStudent{
			StudentNumber: uuid.NewString()[:8], DistrictID: district, SchoolID: school,
			GivenName: "Sam", FamilyName: "Rivera", BirthDate: "2016-04-02", Grade: "4",
			Gender: "unknown", EnrolledOn: "2025-08-20"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	here, elsewhere := enrol(o.d1, o.s1), enrol(o.d2, o.s2)
	cases := []struct {
		name    string
		actor   string
		student string
		want    string
	}{
		{"a student elsewhere", "nurse", elsewhere, "ok"},
		{"a student of the nurse's school", "nurse", here, "conflict student_id"},
		{"a student the log does not hold", "nurse", uuid.NewString(), "not found"},
		{"any student, by a compliance officer", "compliance officer", here, "ok"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			actor := o.nurse
			if c.actor == "compliance officer" {
				actor = o.co
			}
			before, err := l.LastPosition(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = a.OpenBreakGlass(t.Context(), actor, commands.Meta{}, c.student,
				domain.ReasonMedicalEmergency, "seizure in the gym; the care plan is needed now", 0)
			got := outcome(err)
			if errors.Is(err, commands.ErrNotFound) {
				got = "not found"
			}
			if got != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
			after, err := l.LastPosition(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if (after > before) != (c.want == "ok") {
				t.Errorf("log head %d → %d: a refused grant appends nothing", before, after)
			}
		})
	}
}
