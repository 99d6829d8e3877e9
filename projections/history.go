package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// A student's history is read from the log itself, not from a read model:
// the log is the record, and its events are what a compliance officer
// replays.

// ChartAsOf returns the chart of studentID as it stood at asOf: the
// student's stream folded from its first event up to the last one of the
// run recorded at or before asOf, rendered as ChartsTable holds charts.
// Events are taken in stream order, so an event recorded after asOf ends
// the fold even if a later one carries an earlier time. It returns false
// when no chart existed then: no such student, an enrolment recorded
// after asOf, or an enrolment whose payload has been destroyed.
func ChartAsOf(ctx context.Context, log StreamReader, studentID string, asOf time.Time) ([]byte, bool, error) {
	if !domain.ValidID(studentID) {
		return nil, false, nil
	}
	f := &folded{student: &domain.Student{}}
	found := false
	err := eachEvent(ctx, log, domain.StudentStream(studentID), func(e eventstore.Event) (bool, error) {
		if e.RecordedAt.After(asOf) {
			return false, nil
		}
		found = true
		return true, f.apply(e)
	})
	switch {
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case !found || f.student.ID == "":
		return nil, false, nil
	}
	doc, err := renderChart(f.student, f.revision)
	return doc, err == nil, err
}

// eachEvent calls fn with each event of stream in revision order, until
// fn returns false or an error. It returns eventstore.ErrStreamNotFound,
// wrapped, when the stream has no event.
func eachEvent(
	ctx context.Context,
	log StreamReader,
	stream string,
	fn func(eventstore.Event) (bool, error),
) error {
	const page = 1000
	for from := uint64(0); ; {
		events, err := log.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Limit: page})
		if err != nil {
			return fmt.Errorf("read %s: %w", stream, err)
		}
		for _, e := range events {
			more, err := fn(e)
			if err != nil || !more {
				return err
			}
		}
		if len(events) < page {
			return nil
		}
		from = events[len(events)-1].Revision + 1
	}
}

// HistoryEvent is one event of a student's stream, with who caused it
// and the corrections that point at it.
type HistoryEvent struct {
	EventID       string    `json:"event_id"`
	Type          string    `json:"type"`
	SchemaVersion int       `json:"schema_version"`
	Revision      uint64    `json:"revision"`
	Position      uint64    `json:"position"`
	RecordedAt    time.Time `json:"recorded_at"`
	// ActorID and ActorRole are the event's metadata: the account that
	// caused it, and the role it acted in.
	ActorID    string `json:"actor_id,omitempty"`
	ActorRole  string `json:"actor_role,omitempty"`
	BreakGlass bool   `json:"break_glass,omitempty"`
	// Data is the payload as stored; null once it has been destroyed,
	// which PayloadDestroyed then says.
	Data             json.RawMessage `json:"data"`
	PayloadDestroyed bool            `json:"payload_destroyed,omitempty"`
	// EntryID is the chart entry the event records or corrects.
	EntryID string `json:"entry_id,omitempty"`
	// Corrects is, for an amendment or a marking in error, the event that
	// recorded the entry it corrects.
	Corrects string `json:"corrects,omitempty"`
	// Corrections are the amendments and markings in error that point at
	// the entry this event recorded, in stream order; [] when none.
	Corrections []Correction `json:"corrections"`
}

// Correction names an event that corrects an entry.
type Correction struct {
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	Revision uint64 `json:"revision"`
}

// HistoryPage is a page of a student's history.
type HistoryPage struct {
	Events []HistoryEvent `json:"events"`
	// Next is the cursor of the following page; empty on the last.
	Next string `json:"next,omitempty"`
}

// StudentHistory returns limit events (1 to 500) of studentID's stream in
// revision order, from the cursor after (empty for the first page), each
// with the corrections that point at it. It reads the whole stream, since
// a correction may come any time after what it corrects. It returns false
// when the student has no stream, and ErrInvalidCursor for a cursor no
// page returned.
func StudentHistory(
	ctx context.Context,
	log StreamReader,
	studentID, after string,
	limit int,
) (HistoryPage, bool, error) {
	from, err := historyCursor(after)
	if err != nil {
		return HistoryPage{}, false, fmt.Errorf("history of %s: %w", studentID, err)
	}
	if !domain.ValidID(studentID) {
		return HistoryPage{}, false, nil
	}
	limit = min(max(limit, 1), 500)
	var h historyBuilder
	err = eachEvent(ctx, log, domain.StudentStream(studentID), func(e eventstore.Event) (bool, error) {
		return true, h.add(e)
	})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return HistoryPage{}, false, nil
	}
	if err != nil {
		return HistoryPage{}, false, err
	}
	return h.page(from, limit), true, nil
}

// historyCursor returns the first revision of the page after names.
func historyCursor(after string) (uint64, error) {
	if after == "" {
		return 0, nil
	}
	r, err := strconv.ParseUint(after, 10, 64)
	if err != nil {
		return 0, ErrInvalidCursor
	}
	return r, nil
}

// historyBuilder collects a stream's events and links each correction to
// the event that recorded the entry it corrects.
type historyBuilder struct {
	events []HistoryEvent
	// recorded maps an entry to the index of the event that recorded it.
	recorded map[string]int
}

// add appends e, and links it when it is a correction.
func (h *historyBuilder) add(e eventstore.Event) error {
	m, err := e.DecodeMetadata()
	if err != nil {
		return fmt.Errorf("metadata of %s revision %d: %w", e.Stream, e.Revision, err)
	}
	he := HistoryEvent{
		EventID: e.ID.String(), Type: e.Type, SchemaVersion: e.SchemaVersion,
		Revision: e.Revision, Position: e.Position, RecordedAt: e.RecordedAt,
		ActorID: m.ActorID, ActorRole: m.ActorRole, BreakGlass: m.BreakGlass,
		Data: e.Data, PayloadDestroyed: e.Data == nil, Corrections: []Correction{},
	}
	if e.Data != nil {
		var entry struct {
			EntryID string `json:"entry_id"`
		}
		if err := json.Unmarshal(e.Data, &entry); err != nil {
			return fmt.Errorf("data of %s revision %d: %w", e.Stream, e.Revision, err)
		}
		he.EntryID = entry.EntryID
	}
	h.link(&he)
	h.events = append(h.events, he)
	return nil
}

// link records he as an entry's recording, or, when it corrects an entry
// recorded before, adds it to that event's corrections.
func (h *historyBuilder) link(he *HistoryEvent) {
	if he.EntryID == "" {
		return
	}
	if h.recorded == nil {
		h.recorded = make(map[string]int)
	}
	i, seen := h.recorded[he.EntryID]
	if !corrects(he.Type) {
		if !seen {
			h.recorded[he.EntryID] = len(h.events)
		}
		return
	}
	if seen {
		he.Corrects = h.events[i].EventID
		h.events[i].Corrections = append(h.events[i].Corrections,
			Correction{EventID: he.EventID, Type: he.Type, Revision: he.Revision})
	}
}

// corrects reports whether events of type typ correct an entry.
func corrects(typ string) bool {
	return typ == (domain.EntryAmended{}).EventType() || typ == (domain.EntryMarkedInError{}).EventType()
}

// page returns limit events from revision from.
func (h *historyBuilder) page(from uint64, limit int) HistoryPage {
	out := HistoryPage{Events: []HistoryEvent{}}
	start := min(from, uint64(len(h.events)))
	end := min(start+uint64(limit), uint64(len(h.events)))
	out.Events = append(out.Events, h.events[start:end]...)
	if end < uint64(len(h.events)) {
		out.Next = strconv.FormatUint(end, 10)
	}
	return out
}
