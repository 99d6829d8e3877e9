package projections_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/projections/projectiontest"
)

// appendByActor appends events to stream, whatever its state, with actor and
// role as their metadata's, and returns the events as the log recorded
// them.
func appendByActor(
	t *testing.T,
	h *projectiontest.Harness,
	stream, actor string,
	role domain.Role,
	events ...domain.Event,
) []eventstore.Event {
	t.Helper()
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		typ, version, payload, err := domain.EncodeEvent(e)
		if err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
		data[i] = eventstore.EventData{Type: typ, SchemaVersion: version, Data: payload,
			Metadata: eventstore.Metadata{ActorID: actor, ActorRole: string(role)}}
	}
	res, err := h.Log.Append(t.Context(), stream, eventstore.Any, data...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	recorded, err := h.Log.ReadStream(t.Context(), stream, eventstore.ReadOptions{
		From: res.Revision - uint64(len(events)-1), Limit: len(events)})
	if err != nil {
		t.Fatalf("read back %s: %v", stream, err)
	}
	return recorded
}

// appendChart appends a chart with every kind of entry and correction,
// one event per append so that each has a time of its own, and returns
// the events as the log recorded them, by revision.
func appendChart(t *testing.T, h *projectiontest.Harness, student, nurse string) []eventstore.Event {
	t.Helper()
	enrolled, rest := chartEvents(student, newID())
	var recorded []eventstore.Event
	for _, e := range append([]domain.Event{enrolled}, rest...) {
		recorded = append(recorded, appendByActor(t, h, domain.StudentStream(student), nurse, domain.RoleNurse, e)...)
	}
	for i := 1; i < len(recorded); i++ {
		if !recorded[i].RecordedAt.After(recorded[i-1].RecordedAt) {
			t.Fatalf("revisions %d and %d recorded at the same time", i-1, i)
		}
	}
	return recorded
}

// The revisions of appendChart's events that the tests look at: see
// chartEvents.
const (
	allergyRevision   = 3
	conditionRevision = 4
	amendedRevision   = 11
	inErrorRevision   = 12
)

// TestChartAsOf folds charts as they stood at moments of their history:
// before the enrolment, at it, before the corrections, and after the
// last event, which is the chart the charts read model holds, byte for
// byte.
func TestChartAsOf(t *testing.T) {
	eachMode(t, testChartAsOf)
}

func testChartAsOf(t *testing.T, h *projectiontest.Harness) {
	student := newID()
	events := appendChart(t, h, student, newID())
	h.Sync()

	asOf := func(at time.Time) (projections.Chart, []byte, bool) {
		t.Helper()
		doc, ok, err := projections.ChartAsOf(t.Context(), h.Log, student, at)
		if err != nil {
			t.Fatalf("chart as of %s: %v", at, err)
		}
		var c projections.Chart
		if ok {
			if err := json.Unmarshal(doc, &c); err != nil {
				t.Fatalf("decode %s: %v", doc, err)
			}
		}
		return c, doc, ok
	}

	if _, _, ok := asOf(events[0].RecordedAt.Add(-time.Microsecond)); ok {
		t.Error("a chart before the enrolment")
	}
	if c, _, ok := asOf(events[0].RecordedAt); !ok || c.ID != student || c.Revision != 0 ||
		len(c.Entries) != 0 || len(c.Contacts) != 0 {
		t.Errorf("at the enrolment: found %v, %+v", ok, c)
	}

	before, _, _ := asOf(events[amendedRevision].RecordedAt.Add(-time.Microsecond))
	if before.Revision != amendedRevision-1 || len(before.Entries) != 8 {
		t.Fatalf("before the amendment: revision %d, %d entries", before.Revision, len(before.Entries))
	}
	if a := before.Entries[0]; a.Amendments != 0 || a.RecordedValues != nil || a.InError {
		t.Errorf("the allergy before its amendment: %+v", a)
	}
	if c := before.Entries[1]; c.InError || c.ErrorReason != "" {
		t.Errorf("the condition before it was marked in error: %+v", c)
	}
	between, _, _ := asOf(events[inErrorRevision].RecordedAt.Add(-time.Microsecond))
	if between.Entries[0].Amendments != 1 || between.Entries[1].InError {
		t.Errorf("between the corrections: %+v, %+v", between.Entries[0], between.Entries[1])
	}

	_, latest, ok := asOf(time.Now().Add(time.Hour))
	_, row := chartOf(t, h, student)
	if !ok || !bytes.Equal(latest, row.Document) {
		t.Errorf("as of now:\n%s\nthe charts read model:\n%s", latest, row.Document)
	}
	if _, ok, err := projections.ChartAsOf(t.Context(), h.Log, newID(), time.Now()); ok || err != nil {
		t.Errorf("a student with no stream: found %v, error %v", ok, err)
	}
}

// TestStudentHistory lists a chart's events in order, with their actor
// and data, each recording linked to the corrections that point at it,
// in pages.
func TestStudentHistory(t *testing.T) {
	h := projectiontest.New(t, projectiontest.Rebuilt, fast)
	student, nurse := newID(), newID()
	events := appendChart(t, h, student, nurse)

	page, ok, err := projections.StudentHistory(t.Context(), h.Log, student, "", 500)
	if err != nil || !ok || page.Next != "" || len(page.Events) != len(events) {
		t.Fatalf("history: found %v, error %v, %d events, next %q", ok, err, len(page.Events), page.Next)
	}
	for i, e := range page.Events {
		if e.EventID != events[i].ID.String() || e.Revision != uint64(i) || e.Type != events[i].Type ||
			e.Position != events[i].Position || !e.RecordedAt.Equal(events[i].RecordedAt) ||
			e.ActorID != nurse || e.ActorRole != "nurse" || !bytes.Equal(e.Data, events[i].Data) {
			t.Errorf("event %d: %+v, want %s at %d", i, e, events[i].Type, events[i].Position)
		}
	}
	links := map[int]int{allergyRevision: amendedRevision, conditionRevision: inErrorRevision}
	for recorded, correction := range links {
		want := []projections.Correction{{EventID: events[correction].ID.String(),
			Type: events[correction].Type, Revision: uint64(correction)}}
		if got := page.Events[recorded].Corrections; !slices.Equal(got, want) {
			t.Errorf("corrections of revision %d: %+v, want %+v", recorded, got, want)
		}
		if got := page.Events[correction].Corrects; got != events[recorded].ID.String() {
			t.Errorf("revision %d corrects %q, want %s", correction, got, events[recorded].ID)
		}
	}
	corrected := 0
	for _, e := range page.Events {
		corrected += len(e.Corrections)
	}
	if corrected != len(links) {
		t.Errorf("%d corrections in all, want %d", corrected, len(links))
	}

	var walked []string
	for cursor, pages := "", 0; pages < 20; pages++ {
		p, _, err := projections.StudentHistory(t.Context(), h.Log, student, cursor, 6)
		if err != nil || len(p.Events) > 6 {
			t.Fatalf("page %d: %d events, error %v", pages, len(p.Events), err)
		}
		for _, e := range p.Events {
			walked = append(walked, e.EventID)
			if e.Revision == allergyRevision && len(e.Corrections) != 1 {
				t.Errorf("on its page, the allergy has corrections %+v", e.Corrections)
			}
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if len(walked) != len(events) || walked[len(walked)-1] != events[len(events)-1].ID.String() {
		t.Errorf("walked %d events of %d", len(walked), len(events))
	}

	if _, ok, err := projections.StudentHistory(t.Context(), h.Log, newID(), "", 10); ok || err != nil {
		t.Errorf("a student with no stream: found %v, error %v", ok, err)
	}
	if _, _, err := projections.StudentHistory(t.Context(), h.Log, student, "x", 10); !errors.Is(err, projections.ErrInvalidCursor) {
		t.Errorf("a bad cursor: %v, want ErrInvalidCursor", err)
	}
}
