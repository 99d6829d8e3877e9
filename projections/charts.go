package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// ChartsTable is the charts read model: one row per student, with the
// student's whole chart as GET /v1/students/{id} serves it (a Chart, as
// jsonb).
const ChartsTable = "readmodel.charts"

// The SQL of the charts read model; %[1]s is the table suffix.
const (
	chartsSchema = `
		CREATE TABLE readmodel.charts%[1]s (
			student_id uuid   NOT NULL,
			school_id  uuid   NOT NULL,
			document   json   NOT NULL,
			revision   bigint NOT NULL,
			position   bigint NOT NULL,
			CONSTRAINT charts%[1]s_pkey PRIMARY KEY (student_id)
		);
		-- Stored out of line and uncompressed: a read hands back the
		-- stored bytes without inflating them, and a write does not
		-- deflate them first.
		ALTER TABLE readmodel.charts%[1]s ALTER COLUMN document SET STORAGE EXTERNAL`

	// A row never goes back to an older revision of its stream.
	upsertChartSQL = `
		INSERT INTO readmodel.charts%[1]s AS c (student_id, school_id, document,
			revision, position)
		VALUES ($1, $2, $3::text::json, $4, $5)
		ON CONFLICT (student_id) DO UPDATE SET
			school_id = excluded.school_id, document = excluded.document,
			revision = excluded.revision, position = excluded.position
		WHERE c.revision <= excluded.revision`

	deleteChartSQL = `DELETE FROM readmodel.charts%[1]s WHERE student_id = $1`

	chartOfSQL = `
		SELECT document::text, school_id::text, revision, position
		FROM readmodel.charts WHERE student_id = $1`
)

// StreamReader is what Charts needs of the event log: a stream's events.
// An eventstore.Store is one.
type StreamReader interface {
	ReadStream(ctx context.Context, stream string, opts eventstore.ReadOptions) ([]eventstore.Event, error)
}

// Charts projects student streams into ChartsTable. For each event it
// brings the student's aggregate to the event's revision, from a cache of
// recently folded students, or else from the log, then renders the whole
// chart and writes it in place of the old one.
//
// One Charts may serve the live tables and a rebuild at once: its cache
// keys each student by table suffix too.
type Charts struct {
	log   StreamReader
	cache *foldCache
}

var (
	_ Selective = (*Charts)(nil)
	_ Buffered  = (*Charts)(nil)
)

// chartCacheSize bounds the students Charts keeps folded in memory.
const chartCacheSize = 4096

// NewCharts returns a Charts that reads student streams from log when its
// cache has not got a student at the revision it needs.
func NewCharts(log StreamReader) *Charts {
	return &Charts{log: log, cache: newFoldCache(chartCacheSize)}
}

// Name returns "charts".
func (*Charts) Name() string { return "charts" }

// Tables returns ChartsTable.
func (*Charts) Tables() []string { return []string{ChartsTable} }

// Schema returns the statements that create ChartsTable with suffix.
func (*Charts) Schema(suffix string) string { return fmt.Sprintf(chartsSchema, suffix) }

// Selects reports whether e belongs to a student's stream.
func (*Charts) Selects(e eventstore.Event) bool {
	return strings.HasPrefix(e.Stream, domain.StudentStream(""))
}

// Apply renders the chart of the student whose stream e belongs to, as it
// stands after e, and ignores every event of another stream. A chart
// whose enrolment's payload has been destroyed has no row. In a rebuild
// it holds the chart back, dirty in its cache, and writes it when the
// cache lets it go or when the rebuild flushes: a student's chart is then
// rendered a few times in all, not once per event.
func (p *Charts) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	studentID, ok := strings.CutPrefix(e.Stream, domain.StudentStream(""))
	if !ok {
		return nil
	}
	key := foldKey{suffix: suffix, student: studentID}
	f, err := p.foldedBefore(ctx, key, e)
	if err != nil {
		return err
	}
	if err := f.apply(e); err != nil {
		return err
	}
	f.position = e.Position

	if suffix == rebuildSuffix {
		f.dirty = true
		return p.writeAll(ctx, tx, p.cache.put(key, f))
	}
	if err := p.write(ctx, tx, f, key); err != nil {
		return err
	}
	// Only a chart written is kept: after an error the next attempt
	// folds again.
	p.cache.put(key, f)
	return nil
}

// Flush writes every chart a rebuild into the tables of suffix held back.
func (p *Charts) Flush(ctx context.Context, tx pgx.Tx, suffix string) error {
	return p.writeAll(ctx, tx, p.cache.dirty(suffix))
}

// Discard forgets the students folded for the tables of suffix.
func (p *Charts) Discard(suffix string) { p.cache.drop(suffix) }

// writeAll writes the charts of held, each to the tables of its key.
func (p *Charts) writeAll(ctx context.Context, tx pgx.Tx, held []cachedFold) error {
	for _, h := range held {
		if err := p.write(ctx, tx, h.folded, h.key); err != nil {
			return err
		}
	}
	return nil
}

// write renders f, key's student, or its absence, and queues the
// statement that puts it in its row of the tables of key's suffix.
//
// TODO: each write renders the whole chart again, about 0.6 ms for a
// school year's; dose records never change once made, so keeping each
// one's JSON in f and rendering only the new ones would spare most of it.
func (p *Charts) write(ctx context.Context, tx pgx.Tx, f *folded, key foldKey) error {
	suffix := key.suffix
	if f.student.ID == "" {
		_, err := tx.Exec(ctx, fmt.Sprintf(deleteChartSQL, suffix), key.student)
		return err
	}
	doc, err := renderChart(f.student, f.revision)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(upsertChartSQL, suffix), f.student.ID,
		f.student.SchoolID, string(doc), int64(f.revision), int64(f.position))
	return err
}

// foldedBefore returns key's student as it stood just before e: the
// cached one when it is at e's previous revision, else one folded afresh
// from the log. A cached student at any other revision (a miss, or one
// ahead after a transaction that did not commit) is dropped.
func (p *Charts) foldedBefore(ctx context.Context, key foldKey, e eventstore.Event) (*folded, error) {
	if e.Revision == 0 {
		p.cache.take(key)
		return &folded{student: &domain.Student{}}, nil
	}
	if f := p.cache.take(key); f != nil && f.revision == e.Revision-1 {
		return f, nil
	}
	return p.load(ctx, e.Stream, e.Revision-1)
}

// load folds stream from its first event up to revision last.
func (p *Charts) load(ctx context.Context, stream string, last uint64) (*folded, error) {
	const page = 1000
	f := &folded{student: &domain.Student{}}
	for from := uint64(0); from <= last; {
		events, err := p.log.ReadStream(ctx, stream, eventstore.ReadOptions{From: from, Limit: page})
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", stream, err)
		}
		for _, e := range events {
			if e.Revision > last {
				return f, nil
			}
			if err := f.apply(e); err != nil {
				return nil, err
			}
		}
		if len(events) < page {
			break
		}
		from = events[len(events)-1].Revision + 1
	}
	if f.revision != last {
		return nil, fmt.Errorf("load %s: found revision %d, want %d", stream, f.revision, last)
	}
	return f, nil
}

// folded is a student's aggregate and the stream revision it is at.
type folded struct {
	student  *domain.Student
	revision uint64
	// position is the log position of the last event applied, when a
	// projection set it.
	position uint64
	// dirty marks, in a rebuild, a chart not yet written since its last
	// event.
	dirty bool
	// partial is set once an event of the stream has had its payload
	// destroyed: the aggregate lacks that event, and may not accept
	// events that rely on it.
	partial bool
}

// apply applies e to f. An event whose payload has been destroyed is left
// out, as is, once one has been, any event the aggregate then refuses;
// on a whole stream, an event the aggregate refuses is an error.
func (f *folded) apply(e eventstore.Event) error {
	f.revision = e.Revision
	if e.Data == nil {
		f.partial = true
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	err = f.student.Apply(decoded)
	if f.partial && errors.Is(err, domain.ErrUnexpectedEvent) {
		return nil
	}
	return err
}

// ChartRow is a row of ChartsTable.
type ChartRow struct {
	// Document is the Chart as JSON.
	Document []byte
	SchoolID string
	// Revision and Position are the stream revision and the log position
	// of the last event the chart holds.
	Revision uint64
	Position uint64
}

// ChartOf returns the chart of studentID, and false when the read model
// has none (no such student, or not yet projected).
func ChartOf(ctx context.Context, q Querier, studentID string) (ChartRow, bool, error) {
	var doc bytes.Buffer
	row, ok, err := ChartInto(ctx, q, studentID, &doc)
	row.Document = doc.Bytes()
	return row, ok, err
}

// ChartInto appends the chart of studentID, as stored, to doc, and
// returns the rest of its row (no Document); false when the read model
// has none. A caller that reads many charts may hand the same buffers
// back, sparing the allocation of each chart's bytes.
func ChartInto(ctx context.Context, q Querier, studentID string, doc *bytes.Buffer) (ChartRow, bool, error) {
	if !domain.ValidID(studentID) {
		return ChartRow{}, false, nil
	}
	rows, _ := q.Query(ctx, chartOfSQL, studentID)
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return ChartRow{}, false, fmt.Errorf("chart of %s: %w", studentID, err)
		}
		return ChartRow{}, false, nil
	}

	var c ChartRow
	var revision, position int64
	// The document is copied from the row as it came, not scanned: a
	// scan would allocate its bytes afresh.
	if err := rows.Scan(nil, &c.SchoolID, &revision, &position); err != nil {
		return ChartRow{}, false, fmt.Errorf("chart of %s: %w", studentID, err)
	}
	doc.Write(rows.RawValues()[0])
	c.Revision, c.Position = uint64(revision), uint64(position)
	return c, true, nil
}
