package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the disclosures read model: the accounting of
// disclosures (HIPAA 45 CFR 164.528) and the record of requests and
// disclosures kept with each student's record (FERPA 34 CFR 99.32).
const (
	// DisclosuresTable has one row per disclosure (PHIDisclosed).
	DisclosuresTable = "readmodel.disclosures"
	// DisclosureStudentsTable names the students of each disclosure that
	// names its students.
	DisclosureStudentsTable = "readmodel.disclosure_students"
	// DisclosureTimesTable has the recorded time of every event of every
	// student's chart, which tells whether a disclosure of a time range of
	// the whole log concerns a student.
	DisclosureTimesTable = "readmodel.disclosure_student_times"
	// DisclosureRequestsTable has one row per refused attempt to read a
	// student's health information (PHIAccessRefused naming a student):
	// the requests for access that were not granted.
	DisclosureRequestsTable = "readmodel.disclosure_requests"
)

// The SQL of the disclosures read model; %[1]s is the table suffix.
const (
	disclosuresSchema = `
		CREATE TABLE readmodel.disclosures%[1]s (
			disclosure_id text        NOT NULL,
			kind          text        NOT NULL,
			actor_id      text        NOT NULL,
			actor_role    text        NOT NULL,
			recipient     text        NOT NULL,
			what          text        NOT NULL,
			purpose       text        NOT NULL,
			export_id     text        NOT NULL,
			all_students  boolean     NOT NULL,
			range_from    timestamptz,
			range_to      timestamptz,
			at            timestamptz NOT NULL,
			position      bigint      NOT NULL,
			CONSTRAINT disclosures%[1]s_pkey PRIMARY KEY (disclosure_id),
			CONSTRAINT disclosures%[1]s_position_key UNIQUE (position)
		);
		CREATE INDEX disclosures%[1]s_all_students_idx
			ON readmodel.disclosures%[1]s (at) WHERE all_students;
		CREATE TABLE readmodel.disclosure_students%[1]s (
			student_id    text NOT NULL,
			disclosure_id text NOT NULL,
			CONSTRAINT disclosure_students%[1]s_pkey PRIMARY KEY (student_id, disclosure_id)
		);
		CREATE TABLE readmodel.disclosure_student_times%[1]s (
			student_id  text        NOT NULL,
			recorded_at timestamptz NOT NULL,
			position    bigint      NOT NULL,
			CONSTRAINT disclosure_student_times%[1]s_pkey
				PRIMARY KEY (student_id, recorded_at, position)
		);
		CREATE TABLE readmodel.disclosure_requests%[1]s (
			access_id  text        NOT NULL,
			student_id text        NOT NULL,
			actor_id   text        NOT NULL,
			actor_role text        NOT NULL,
			what       text        NOT NULL,
			reason     text        NOT NULL,
			at         timestamptz NOT NULL,
			position   bigint      NOT NULL,
			CONSTRAINT disclosure_requests%[1]s_pkey PRIMARY KEY (access_id)
		);
		CREATE INDEX disclosure_requests%[1]s_student_idx
			ON readmodel.disclosure_requests%[1]s (student_id, position DESC)`

	insertDisclosureSQL = `
		INSERT INTO readmodel.disclosures%[1]s (disclosure_id, kind, actor_id, actor_role,
			recipient, what, purpose, export_id, all_students, range_from, range_to, at,
			position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`

	insertDisclosureStudentsSQL = `
		INSERT INTO readmodel.disclosure_students%[1]s (student_id, disclosure_id)
		SELECT DISTINCT s, $2 FROM unnest($1::text[]) AS s
		ON CONFLICT DO NOTHING`

	insertStudentTimeSQL = `
		INSERT INTO readmodel.disclosure_student_times%[1]s (student_id, recorded_at, position)
		VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`

	insertRequestSQL = `
		INSERT INTO readmodel.disclosure_requests%[1]s (access_id, student_id, actor_id,
			actor_role, what, reason, at, position)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT DO NOTHING`

	// A disclosure of the whole log, or of a time range of it, concerns
	// the students with an event in the range, up to the disclosure: what
	// was recorded after it was not in it.
	disclosuresOfSQL = `
		SELECT d.disclosure_id, d.kind, d.actor_id, d.actor_role, d.recipient, d.what,
			d.purpose, d.export_id, d.all_students, d.range_from, d.range_to, d.at, d.position
		FROM readmodel.disclosures d
		WHERE d.at >= $2 AND d.at < $3
			AND ($4::bigint = 0 OR (d.at, d.position) <
				(SELECT c.at, c.position FROM readmodel.disclosures c WHERE c.position = $4))
			AND (EXISTS (SELECT 1 FROM readmodel.disclosure_students s
					WHERE s.student_id = $1 AND s.disclosure_id = d.disclosure_id)
				OR d.all_students AND EXISTS (SELECT 1 FROM readmodel.disclosure_student_times t
					WHERE t.student_id = $1
						AND t.recorded_at >= coalesce(d.range_from, '-infinity')
						AND t.recorded_at <= least(coalesce(d.range_to, d.at), d.at)))
		ORDER BY d.at DESC, d.position DESC
		LIMIT $5`

	requestsOfSQL = `
		SELECT access_id, actor_id, actor_role, what, reason, at, position
		FROM readmodel.disclosure_requests
		WHERE student_id = $1 AND position < $2 AND at >= $3 AND at < $4
		ORDER BY position DESC
		LIMIT $5`
)

// Disclosures projects disclosures, refused accesses to students' health
// information, and the times of the events of students' charts into the
// disclosures tables.
type Disclosures struct{}

var _ Projection = Disclosures{}

// Name returns "disclosures".
func (Disclosures) Name() string { return "disclosures" }

// Tables returns the disclosures tables.
func (Disclosures) Tables() []string {
	return []string{DisclosuresTable, DisclosureStudentsTable, DisclosureTimesTable,
		DisclosureRequestsTable}
}

// Schema returns the statements that create the disclosures tables with
// suffix.
func (Disclosures) Schema(suffix string) string { return fmt.Sprintf(disclosuresSchema, suffix) }

// Apply records the time of every event of a student's stream, and
// applies PHIDisclosed and PHIAccessRefused naming a student; it ignores
// every other event, and a disclosure or refusal whose payload has been
// destroyed.
func (Disclosures) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if student, ok := strings.CutPrefix(e.Stream, domain.StudentStream("")); ok {
		_, err := tx.Exec(ctx, fmt.Sprintf(insertStudentTimeSQL, suffix), student, e.RecordedAt,
			int64(e.Position))
		return err
	}
	decoded, err := decodeOneOf(e, domain.PHIDisclosed{}, domain.PHIAccessRefused{})
	if err != nil {
		return err
	}
	pos := int64(e.Position)
	switch d := decoded.(type) {
	case domain.PHIDisclosed:
		return applyDisclosure(ctx, tx, d, pos, suffix)
	case domain.PHIAccessRefused:
		if d.StudentID == "" {
			return nil // a school's list: no student's record to keep it with
		}
		_, err := tx.Exec(ctx, fmt.Sprintf(insertRequestSQL, suffix), d.AccessID, d.StudentID,
			d.ActorID, string(d.ActorRole), d.What, d.Reason, d.At, pos)
		return err
	}
	return nil
}

func applyDisclosure(ctx context.Context, tx pgx.Tx, d domain.PHIDisclosed, pos int64, suffix string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(insertDisclosureSQL, suffix), d.DisclosureID, d.Kind,
		d.ActorID, string(d.ActorRole), d.Recipient, d.What, d.Purpose, d.ExportID,
		d.AllStudents, d.From, d.To, d.At, pos)
	if err != nil || len(d.StudentIDs) == 0 {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(insertDisclosureStudentsSQL, suffix), d.StudentIDs,
		d.DisclosureID)
	return err
}

// DisclosureRow is one disclosure of a student's health information.
type DisclosureRow struct {
	DisclosureID string    `json:"disclosure_id"`
	Kind         string    `json:"kind"`
	At           time.Time `json:"at"`
	Recipient    string    `json:"recipient"`
	What         string    `json:"what"`
	Purpose      string    `json:"purpose"`
	ExportID     string    `json:"export_id,omitempty"`
	// AllStudents marks a disclosure of the whole log or of a time range
	// of it (From, To), listed for every student with an event in it.
	AllStudents bool       `json:"all_students,omitempty"`
	From        *time.Time `json:"from,omitempty"`
	To          *time.Time `json:"to,omitempty"`
	// RecordedBy is the account that made or recorded the disclosure.
	RecordedBy     string `json:"recorded_by"`
	RecordedByRole string `json:"recorded_by_role"`
	Position       uint64 `json:"position"`
}

// RequestRow is one refused request for a student's health information.
type RequestRow struct {
	AccessID  string    `json:"access_id"`
	ActorID   string    `json:"actor_id"`
	ActorRole string    `json:"actor_role"`
	What      string    `json:"what"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	Position  uint64    `json:"position"`
}

// DisclosureQuery selects a page of a student's disclosures and
// requests.
type DisclosureQuery struct {
	StudentID string
	// From (included) and To (excluded) bound the times of the
	// disclosures and of the requests; zero leaves that side open.
	From, To time.Time
	// After is the cursor of the page, empty for the first; Limit, 1 to
	// 500, bounds each list of the page.
	After string
	Limit int
}

// DisclosurePage is a page of a student's accounting of disclosures.
type DisclosurePage struct {
	// Disclosures are newest first by the time of the disclosure.
	Disclosures []DisclosureRow `json:"disclosures"`
	// Requests are the refused requests for the student's health
	// information, newest first.
	Requests []RequestRow `json:"requests"`
	// Next is the cursor of the following page, which goes on with
	// whichever list has more; empty on the last.
	Next string `json:"next,omitempty"`
}

// DisclosuresOf returns a page of dq's student's disclosures and refused
// requests. A cursor no page returned is ErrInvalidCursor; one whose
// disclosure is not in the read model gives no disclosures.
func DisclosuresOf(ctx context.Context, q Querier, dq DisclosureQuery) (DisclosurePage, error) {
	c, err := parseDisclosureCursor(dq.After)
	if err != nil {
		return DisclosurePage{}, fmt.Errorf("disclosures of %s: %w", dq.StudentID, err)
	}
	limit := min(max(dq.Limit, 1), 500)
	from, to := openRange(dq.From, dq.To)
	page := DisclosurePage{Disclosures: []DisclosureRow{}, Requests: []RequestRow{}}
	var next disclosureCursor
	if !c.disclosuresDone {
		rows, _ := q.Query(ctx, disclosuresOfSQL, dq.StudentID, from, to, c.disclosure, limit+1)
		page.Disclosures, err = pgx.CollectRows(rows, scanDisclosure)
		if err != nil {
			return DisclosurePage{}, fmt.Errorf("disclosures of %s: %w", dq.StudentID, err)
		}
		page.Disclosures, next.disclosure, next.disclosuresDone = cut(page.Disclosures, limit,
			func(d DisclosureRow) uint64 { return d.Position })
	}
	if !c.requestsDone {
		rows, _ := q.Query(ctx, requestsOfSQL, dq.StudentID, c.requestsBefore(), from, to, limit+1)
		page.Requests, err = pgx.CollectRows(rows, scanRequest)
		if err != nil {
			return DisclosurePage{}, fmt.Errorf("requests of %s: %w", dq.StudentID, err)
		}
		page.Requests, next.request, next.requestsDone = cut(page.Requests, limit,
			func(r RequestRow) uint64 { return r.Position })
	}
	next.disclosuresDone = next.disclosuresDone || c.disclosuresDone
	next.requestsDone = next.requestsDone || c.requestsDone
	if !next.disclosuresDone || !next.requestsDone {
		page.Next = next.String()
	}
	return page, nil
}

// cut returns rows without the row past limit, the position of the last
// row kept, and whether there were no more rows than limit.
func cut[R any](rows []R, limit int, position func(R) uint64) ([]R, uint64, bool) {
	if len(rows) <= limit {
		return rows, 0, true
	}
	return rows[:limit], position(rows[limit-1]), false
}

func scanDisclosure(r pgx.CollectableRow) (DisclosureRow, error) {
	var d DisclosureRow
	var pos int64
	err := r.Scan(&d.DisclosureID, &d.Kind, &d.RecordedBy, &d.RecordedByRole, &d.Recipient,
		&d.What, &d.Purpose, &d.ExportID, &d.AllStudents, &d.From, &d.To, &d.At, &pos)
	d.Position = uint64(pos)
	return d, err
}

func scanRequest(r pgx.CollectableRow) (RequestRow, error) {
	var q RequestRow
	var pos int64
	err := r.Scan(&q.AccessID, &q.ActorID, &q.ActorRole, &q.What, &q.Reason, &q.At, &pos)
	q.Position = uint64(pos)
	return q, err
}

// disclosureCursor is where a page of each list starts: after the
// position of the last row of the page before, unless that list is done.
// It reads "<disclosure>.<request>", each a log position or "end".
type disclosureCursor struct {
	disclosure, request           uint64
	disclosuresDone, requestsDone bool
}

func (c disclosureCursor) String() string {
	part := func(p uint64, done bool) string {
		if done {
			return "end"
		}
		return strconv.FormatUint(p, 10)
	}
	return part(c.disclosure, c.disclosuresDone) + "." + part(c.request, c.requestsDone)
}

// requestsBefore returns the position the page of requests starts below.
func (c disclosureCursor) requestsBefore() int64 {
	if c.request == 0 {
		return 1<<63 - 1
	}
	return int64(c.request)
}

func parseDisclosureCursor(s string) (disclosureCursor, error) {
	var c disclosureCursor
	if s == "" {
		return c, nil
	}
	d, r, ok := strings.Cut(s, ".")
	if !ok {
		return c, ErrInvalidCursor
	}
	var errD, errR error
	c.disclosure, c.disclosuresDone, errD = cursorPart(d)
	c.request, c.requestsDone, errR = cursorPart(r)
	if err := errors.Join(errD, errR); err != nil || c.disclosuresDone && c.requestsDone {
		return c, ErrInvalidCursor
	}
	return c, nil
}

// cursorPart reads one list's part of a disclosure cursor.
func cursorPart(s string) (uint64, bool, error) {
	if s == "end" {
		return 0, true, nil
	}
	p, err := strconv.ParseUint(s, 10, 63)
	if err != nil || p == 0 {
		return 0, false, ErrInvalidCursor
	}
	return p, false, nil
}
