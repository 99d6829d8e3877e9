package projections_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// office appends, batch by batch, the history of a health office that
// gives every read model of the service rows: the organisation,
// accounts and their changes, charts with an entry of every kind and
// their alerts, transfers, controlled stock, break-glass grants, reads
// and refusals.
type office struct {
	t        *testing.T
	h        *projectiontest.Harness
	district string
	admin    string
	nurse    string
	schools  []string
	students []string
}

func newOffice(t *testing.T, h *projectiontest.Harness) *office {
	o := &office{t: t, h: h, district: newID(), admin: newID(), nurse: newID()}
	appendAs(t, h, domain.DistrictStream(o.district), o.as("sysadmin", ""),
		domain.DistrictCreated{DistrictID: o.district, Name: "District"})
	return o
}

func (o *office) as(role, school string) eventstore.Metadata {
	actor := o.admin
	if role == "nurse" {
		actor = o.nurse
	}
	return eventstore.Metadata{ActorID: actor, ActorRole: role, SchoolID: school}
}

// batch appends the i-th part of the history: a new school with a
// member of staff and a student of its own, and what happens to them.
func (o *office) batch(i int) {
	t, h := o.t, o.h
	school := newID()
	appendAs(t, h, domain.SchoolStream(school), o.as("sysadmin", ""), domain.SchoolCreated{
		SchoolID: school, DistrictID: o.district, Name: "School " + string(rune('A'+i))})
	o.schools = append(o.schools, school)
	o.staff(i, school)

	student := newID()
	atSchool := o.as("nurse", school)
	enrolled, chart := chartEvents(student, school)
	appendAs(t, h, domain.StudentStream(student), atSchool, append([]domain.Event{enrolled}, chart...)...)
	o.students = append(o.students, student)
	later := []domain.Event{domain.AlertAcknowledged{AlertID: alertOf(chart), By: o.nurse, At: t0}}
	if i%2 == 0 {
		later = append(later, domain.AlertResolved{AlertID: alertOf(chart), By: o.nurse,
			At: t0.Add(time.Minute), Outcome: "inhaler given; back to class"})
	}
	if i%3 == 2 {
		later = append(later, domain.StudentTransferred{FromSchoolID: school, ToSchoolID: o.schools[0],
			On: "2025-10-08"})
	}
	appendAs(t, h, domain.StudentStream(student), atSchool, later...)

	appendAs(t, h, domain.ControlledStream(school), atSchool,
		domain.StockReceived{DrugName: "Methylphenidate 10 mg", Quantity: 30, ReceivedBy: o.nurse,
			WitnessID: o.admin, At: t0},
		domain.CountBackRecorded{DrugName: "Methylphenidate 10 mg", AttemptID: newID(),
			QuantityUsed: 1, RemainingCounted: 28, By: o.nurse, At: t0.Add(time.Hour)},
		domain.DiscrepancyRecorded{DrugName: "Methylphenidate 10 mg", Expected: 29, Counted: 28,
			At: t0.Add(time.Hour), By: o.nurse, Context: domain.DiscrepancyAtCountBack})
	o.accesses(student, school)
}

// staff appends an account of the school's, and the changes of its
// roles, schools and state.
func (o *office) staff(i int, school string) {
	user := newID()
	events := []domain.Event{
		domain.UserCreated{UserID: user, Email: newID()[:8] + "@district.example",
			DisplayName: "Staff", Roles: []domain.Role{domain.RoleNurse}, Schools: []string{school}},
		domain.RolesAssigned{Roles: []domain.Role{domain.RoleSchoolAdmin}},
		domain.SchoolsAssigned{Schools: []string{o.schools[0]}},
		domain.LoginFailed{ReasonCode: domain.LoginBadPassword, AttemptAt: t0},
		domain.UserLocked{Until: t0.Add(15 * time.Minute), Reason: domain.LockTooManyFailures},
		domain.UserUnlocked{By: o.admin},
	}
	if i%2 == 1 {
		events = append(events, domain.SchoolsRemoved{Schools: []string{school}},
			domain.UserDeactivated{Reason: "left"})
	}
	appendAs(o.t, o.h, domain.UserStream(user), o.as("sysadmin", ""), events...)
}

// accesses appends a grant opened and closed, a read of two charts and
// two refusals.
func (o *office) accesses(student, school string) {
	t, h := o.t, o.h
	grant := newID()
	appendAs(t, h, domain.BreakGlassStream(grant), o.as("nurse", ""),
		domain.BreakGlassOpened{GrantID: grant, UserID: o.nurse, StudentID: student,
			ReasonCode: domain.ReasonMedicalEmergency, Reason: "collapsed on a school trip",
			OpenedAt: t0, ExpiresAt: t0.Add(time.Hour)},
		domain.BreakGlassClosed{At: t0.Add(time.Minute), By: o.nurse})
	read, refused, atSchool := newID(), newID(), newID()
	appendAs(t, h, domain.AccessStream(read), o.as("nurse", school), domain.PHIAccessed{
		AccessID: read, ActorID: o.nurse, ActorRole: domain.RoleNurse,
		StudentIDs: []string{student, o.students[0]}, What: "GET /v1/schools/:id/doses",
		Purpose: domain.PurposeTreatment, At: t0})
	appendAs(t, h, domain.AccessStream(refused), o.as("nurse", school), domain.PHIAccessRefused{
		AccessID: refused, ActorID: o.nurse, ActorRole: domain.RoleNurse, StudentID: student,
		What: "GET /v1/students/:id", Reason: "scope", At: t0})
	appendAs(t, h, domain.AccessStream(atSchool), o.as("nurse", school), domain.PHIAccessRefused{
		AccessID: atSchool, ActorID: o.nurse, ActorRole: domain.RoleNurse, SchoolID: newID(),
		What: "GET /v1/schools/:id/alerts", Reason: "scope", At: t0})
	disclosed := newID()
	appendAs(t, h, domain.DisclosureStream(disclosed), o.as("compliance_officer", ""), domain.PHIDisclosed{
		DisclosureID: disclosed, Kind: domain.DisclosureOther, ActorID: o.admin,
		ActorRole: domain.RoleComplianceOfficer, StudentIDs: []string{student},
		Recipient: "County health department", What: "immunization record",
		Purpose: "outbreak follow-up", At: t0})
}

// alertOf returns the ID of the alert raised among events.
func alertOf(events []domain.Event) string {
	for _, e := range events {
		if a, ok := e.(domain.AlertRaised); ok {
			return a.AlertID
		}
	}
	return ""
}

// serviceHarness returns a Harness in mode of every read model of the
// service, not started.
func serviceHarness(t *testing.T, mode projectiontest.Mode, cfg projections.Config) *projectiontest.Harness {
	h := projectiontest.New(t, mode, cfg)
	useRunner(t, h, cfg)
	return h
}

// useRunner gives h a new Runner of fresh service projections, as a
// restarted process has.
func useRunner(t *testing.T, h *projectiontest.Harness, cfg projections.Config) {
	t.Helper()
	ps := projections.All(h.Log)
	runner, err := projections.New(h.Pool, h.Log, cfg, ps...)
	if err != nil {
		t.Fatal(err)
	}
	h.Runner, h.Projections = runner, ps
}

// matchesRebuild fails t unless every table of every read model holds
// rows and a rebuild of each gives the same rows as the live ones.
func matchesRebuild(t *testing.T, h *projectiontest.Harness) {
	t.Helper()
	live := h.Snapshot()
	for table, rows := range live {
		if len(rows) == 0 {
			t.Errorf("%s is empty: the history gives it nothing to compare", table)
		}
	}
	// Every read model at once, as `whitecross replay` rebuilds them.
	if err := h.Runner.RebuildAll(t.Context(), 4, nil); err != nil {
		t.Fatal(err)
	}
	equalRows(t, h.Snapshot(), live)
}

// TestServiceReadModelsRebuildMatchLive runs every read model of the
// service live over a health office's history, then rebuilds each and
// compares its tables row by row.
func TestServiceReadModelsRebuildMatchLive(t *testing.T) {
	h := serviceHarness(t, projectiontest.Live, fast)
	h.Start(t.Context())
	o := newOffice(t, h)
	for i := range 4 {
		o.batch(i)
	}
	h.Sync()
	matchesRebuild(t, h)
}

// TestServiceReadModelsCrashBeforeAck stops the service's Runner, once
// for each read model, right after that model has committed an event it
// applies and before the event's ack, then starts another Runner, as a
// restarted process would: at the end, no read model has lost or doubled
// a row, which a rebuild of each shows.
func TestServiceReadModelsCrashBeforeAck(t *testing.T) {
	h := serviceHarness(t, projectiontest.Live, fast)
	o := newOffice(t, h)
	for i, p := range projections.All(h.Log) {
		before := head(t, h)
		o.batch(i)
		target := firstSelected(t, h, p, before)

		ctx, crash := context.WithCancel(t.Context())
		var crashed atomic.Bool
		cfg := projections.WithAfterCommit(fast, func(name string, position uint64) error {
			if name == p.Name() && position == target {
				crashed.Store(true)
				crash()
				return errors.New("crashed before the ack")
			}
			return nil
		})
		useRunner(t, h, cfg)
		select {
		case err := <-h.Start(ctx):
			if err != nil {
				t.Fatalf("%s: run: %v", p.Name(), err)
			}
		case <-time.After(waitTimeout):
			t.Fatalf("%s: the runner did not stop at position %d (failures %+v)", p.Name(), target,
				h.Runner.Failures())
		}
		if !crashed.Load() {
			t.Fatalf("%s: stopped without crashing", p.Name())
		}
	}

	useRunner(t, h, fast)
	h.Start(t.Context())
	h.Sync()
	matchesRebuild(t, h)
	if n, last := len(h.Rows(projections.LogIndexTable)), head(t, h); uint64(n) != last {
		t.Errorf("the log's index holds %d rows for %d events", n, last)
	}
}

// head returns the position of the newest event of h's log.
func head(t *testing.T, h *projectiontest.Harness) uint64 {
	t.Helper()
	p, err := h.Log.LastPosition(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// firstSelected returns the position of the first event after position
// that p applies.
func firstSelected(t *testing.T, h *projectiontest.Harness, p projections.Projection, after uint64) uint64 {
	t.Helper()
	at, ok := nextSelected(t, h, p, after)
	if !ok {
		t.Fatalf("no event after %d for %s", after, p.Name())
	}
	return at
}

// nextSelected returns the position of the first event after position
// that p applies, and false when the log has none.
func nextSelected(t *testing.T, h *projectiontest.Harness, p projections.Projection, after uint64) (uint64, bool) {
	t.Helper()
	events, err := h.Log.ReadAll(t.Context(), after+1, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if s, ok := p.(projections.Selective); !ok || s.Selects(e) {
			return e.Position, true
		}
	}
	return 0, false
}

// TestServiceReadModelsResumeMidStream stops the service's Runner as a
// process is stopped (its context ends) half-way through a health
// office's history, appends more while it is stopped, then starts
// another Runner while the history keeps growing: each read model
// resumes at the first event after its stored checkpoint that it applies
// (none applied twice, none skipped), and at the end every one matches a
// rebuild.
func TestServiceReadModelsResumeMidStream(t *testing.T) {
	h := serviceHarness(t, projectiontest.Live, fast)
	o := newOffice(t, h)
	for i := range 3 {
		o.batch(i)
	}
	half := head(t, h) / 2
	ctx, stop := context.WithCancel(t.Context())
	useRunner(t, h, projections.WithAfterCommit(fast, func(_ string, position uint64) error {
		if position >= half {
			stop()
		}
		return nil
	}))
	select {
	case err := <-h.Start(ctx):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("the runner did not stop at position %d", half)
	}

	stopped := map[string]uint64{}
	behind := 0
	for _, p := range h.Projections {
		stopped[p.Name()] = storedPosition(t, h, p.Name())
		if _, ok := nextSelected(t, h, p, stopped[p.Name()]); ok {
			behind++
		}
	}
	if behind == 0 {
		t.Fatal("every read model had applied all it selects when the runner stopped: not mid-stream")
	}
	for i := 3; i < 5; i++ {
		o.batch(i)
	}

	var mu sync.Mutex
	resumed := map[string]uint64{}
	useRunner(t, h, projections.WithAfterCommit(fast, func(name string, position uint64) error {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := resumed[name]; !ok {
			resumed[name] = position
		}
		return nil
	}))
	h.Start(t.Context())
	o.batch(5)
	h.Sync()
	for _, p := range h.Projections {
		mu.Lock()
		got := resumed[p.Name()]
		mu.Unlock()
		if want, _ := nextSelected(t, h, p, stopped[p.Name()]); got != want {
			t.Errorf("%s stopped with its checkpoint at %d: resumed at %d, want %d", p.Name(),
				stopped[p.Name()], got, want)
		}
	}
	matchesRebuild(t, h)
}
