package projections

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the controlled-substance read model.
const (
	// ControlledStockTable holds, per school and drug, what the stock
	// should hold and its last count.
	ControlledStockTable = "readmodel.controlled_stock"
	// ControlledDiscrepanciesTable holds every discrepancy recorded.
	ControlledDiscrepanciesTable = "readmodel.controlled_discrepancies"
)

// The SQL of the controlled-substance read model; %[1]s is the table
// suffix. Drugs are told apart by drug_key, the name in lower case with
// its spaces collapsed, as the stock's own rules tell them apart;
// drug_name is the name as first received or counted.
const (
	controlledSchema = `
		CREATE TABLE readmodel.controlled_stock%[1]s (
			school_id          uuid    NOT NULL,
			drug_key           text    NOT NULL,
			drug_name          text    NOT NULL,
			expected           integer NOT NULL,
			received           integer NOT NULL,
			used               integer NOT NULL,
			last_count         integer,
			last_count_kind    text,
			last_counted_by    uuid,
			last_count_witness uuid,
			last_counted_at    timestamptz,
			discrepancies      integer NOT NULL,
			first_position     bigint  NOT NULL,
			position           bigint  NOT NULL,
			CONSTRAINT controlled_stock%[1]s_pkey PRIMARY KEY (school_id, drug_key)
		);
		CREATE TABLE readmodel.controlled_discrepancies%[1]s (
			position  bigint      NOT NULL,
			school_id uuid        NOT NULL,
			drug_key  text        NOT NULL,
			drug_name text        NOT NULL,
			expected  integer     NOT NULL,
			counted   integer     NOT NULL,
			context   text        NOT NULL,
			by_id     uuid        NOT NULL,
			at        timestamptz NOT NULL,
			CONSTRAINT controlled_discrepancies%[1]s_pkey PRIMARY KEY (position)
		);
		CREATE INDEX controlled_discrepancies%[1]s_school_idx
			ON readmodel.controlled_discrepancies%[1]s (school_id, position DESC)`

	// controlledStockSQL changes one drug's level: $4 is added to what is
	// expected unless $7 sets it; $5 and $6 are added to what was received
	// and used; a count ($8 to $12) replaces the last count when $8 is set;
	// $13 is added to the discrepancies.
	controlledStockSQL = `
		INSERT INTO readmodel.controlled_stock%[1]s AS s (school_id, drug_key, drug_name,
			expected, received, used, last_count, last_count_kind, last_counted_by,
			last_count_witness, last_counted_at, discrepancies, first_position, position)
		VALUES ($1, $2, $3, coalesce($7::integer, $4::integer), $5, $6, $8::integer,
			$9::text, $10::uuid, $11::uuid, $12::timestamptz, $13, $14, $14)
		ON CONFLICT (school_id, drug_key) DO UPDATE SET
			expected = coalesce($7::integer, s.expected + $4::integer),
			received = s.received + $5,
			used = s.used + $6,
			last_count = CASE WHEN $8::integer IS NULL THEN s.last_count ELSE $8 END,
			last_count_kind = CASE WHEN $8::integer IS NULL THEN s.last_count_kind ELSE $9 END,
			last_counted_by = CASE WHEN $8::integer IS NULL THEN s.last_counted_by ELSE $10 END,
			last_count_witness = CASE WHEN $8::integer IS NULL
				THEN s.last_count_witness ELSE $11 END,
			last_counted_at = CASE WHEN $8::integer IS NULL THEN s.last_counted_at ELSE $12 END,
			discrepancies = s.discrepancies + $13,
			position = $14
		WHERE s.position < $14`

	controlledDiscrepancySQL = `
		INSERT INTO readmodel.controlled_discrepancies%[1]s (position, school_id, drug_key,
			drug_name, expected, counted, context, by_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (position) DO NOTHING`
)

// ControlledStock projects the controlled-substance streams of schools
// (domain.ControlledStream) into ControlledStockTable and
// ControlledDiscrepanciesTable.
type ControlledStock struct{}

var _ Selective = ControlledStock{}

// Selects reports whether e belongs to a school's controlled-substance
// stream.
func (ControlledStock) Selects(e eventstore.Event) bool {
	return strings.HasPrefix(e.Stream, domain.ControlledStream(""))
}

// Name returns "controlled".
func (ControlledStock) Name() string { return "controlled" }

// Tables returns the tables of the controlled-substance read model.
func (ControlledStock) Tables() []string {
	return []string{ControlledStockTable, ControlledDiscrepanciesTable}
}

// Schema returns the statements that create the tables with suffix.
func (ControlledStock) Schema(suffix string) string {
	return fmt.Sprintf(controlledSchema, suffix)
}

// stockChange is what one stock event does to a drug's level.
type stockChange struct {
	drug           string
	delta          int  // added to what is expected
	reset          *int // what is expected from now on, when set
	received, used int
	count          *stockCount
	discrepancy    bool
}

// stockCount is a count of a drug.
type stockCount struct {
	counted int
	kind    string // shift_count or count_back
	by      string
	witness string
	at      time.Time
}

// Apply applies StockReceived, CountBackRecorded, ShiftCountRecorded and
// DiscrepancyRecorded, as domain.ControlledStock does, and ignores every
// other event and an event whose payload has been destroyed. Each change
// is guarded by the position, so that an event applied twice changes
// nothing the second time.
func (ControlledStock) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	school, ok := strings.CutPrefix(e.Stream, domain.ControlledStream(""))
	if !ok || e.Data == nil {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	change, ok := stockChangeOf(decoded)
	if !ok {
		return nil
	}

	pos := int64(e.Position)
	key := drugKey(change.drug)
	if d, ok := decoded.(domain.DiscrepancyRecorded); ok {
		_, err := tx.Exec(ctx, fmt.Sprintf(controlledDiscrepancySQL, suffix), pos, school, key,
			d.DrugName, d.Expected, d.Counted, string(d.Context), d.By, d.At)
		if err != nil {
			return err
		}
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(controlledStockSQL, suffix), stockArgs(school, key, change, pos)...)
	return err
}

// stockChangeOf returns what e does to the stock, and false when e is no
// stock event.
func stockChangeOf(e domain.Event) (stockChange, bool) {
	switch d := e.(type) {
	case domain.StockReceived:
		return stockChange{drug: d.DrugName, delta: d.Quantity, received: d.Quantity}, true
	case domain.CountBackRecorded:
		return stockChange{drug: d.DrugName, delta: -d.QuantityUsed, used: d.QuantityUsed,
			count: &stockCount{counted: d.RemainingCounted, kind: "count_back", by: d.By, at: d.At}}, true
	case domain.ShiftCountRecorded:
		return stockChange{drug: d.DrugName, count: &stockCount{counted: d.Counted,
			kind: "shift_count", by: d.By, witness: d.WitnessID, at: d.At}}, true
	case domain.DiscrepancyRecorded:
		return stockChange{drug: d.DrugName, reset: &d.Counted, discrepancy: true}, true
	}
	return stockChange{}, false
}

func stockArgs(school, key string, c stockChange, pos int64) []any {
	var reset, counted, kind, by, witness, at any
	if c.reset != nil {
		reset = *c.reset
	}
	if n := c.count; n != nil {
		counted, kind, by, at = n.counted, n.kind, n.by, n.at
		if n.witness != "" {
			witness = n.witness
		}
	}
	discrepancies := 0
	if c.discrepancy {
		discrepancies = 1
	}
	return []any{school, key, c.drug, c.delta, c.received, c.used, reset,
		counted, kind, by, witness, at, discrepancies, pos}
}

// drugKey returns the name drugs are told apart by: in lower case, with
// runs of white space made one space.
func drugKey(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " "))
}

// StockLevelRow is what a school's stock should hold of one drug.
type StockLevelRow struct {
	DrugName string `json:"drug_name"`
	// Expected is what was received, less what was used, reset to the
	// count at each discrepancy; negative when more was used than
	// received and no count has corrected it yet.
	Expected int `json:"expected"`
	Received int `json:"received"`
	Used     int `json:"used"`
	// LastCount is the last count (a shift count or a count-back), with
	// its kind, who made it, the witness of a shift count, and when; nil
	// while the drug was never counted.
	LastCount        *int       `json:"last_count,omitempty"`
	LastCountKind    string     `json:"last_count_kind,omitempty"`
	LastCountedBy    string     `json:"last_counted_by,omitempty"`
	LastCountWitness string     `json:"last_count_witness,omitempty"`
	LastCountedAt    *time.Time `json:"last_counted_at,omitempty"`
	Discrepancies    int        `json:"discrepancies"`

	firstPosition int64
}

// DiscrepancyRow is one count that differed from what the stock should
// hold.
type DiscrepancyRow struct {
	DrugName string `json:"drug_name"`
	Expected int    `json:"expected"`
	Counted  int    `json:"counted"`
	// Context is count_back or shift_count.
	Context  string    `json:"context"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Position uint64    `json:"position"`
}

// StockPage is a page of a school's controlled stock: the levels by drug
// name, then the discrepancies, newest first.
type StockPage struct {
	Levels        []StockLevelRow  `json:"levels"`
	Discrepancies []DiscrepancyRow `json:"discrepancies"`
	// Next is the cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

// The SQL of StockOf. A level's cursor is the position that created its
// row, a discrepancy's its position: never a name.
const (
	stockLevelsSQL = `
		SELECT drug_name, expected, received, used, last_count,
			coalesce(last_count_kind, ''), coalesce(last_counted_by::text, ''),
			coalesce(last_count_witness::text, ''), last_counted_at, discrepancies,
			first_position
		FROM readmodel.controlled_stock s
		WHERE s.school_id = $1
			AND ($2::bigint IS NULL OR s.drug_key > (SELECT c.drug_key
				FROM readmodel.controlled_stock c
				WHERE c.school_id = $1 AND c.first_position = $2))
		ORDER BY s.drug_key
		LIMIT $3`

	stockDiscrepanciesSQL = `
		SELECT drug_name, expected, counted, context, by_id::text, at, position
		FROM readmodel.controlled_discrepancies
		WHERE school_id = $1 AND position < $2
		ORDER BY position DESC
		LIMIT $3`
)

// StockOf returns a page of school's controlled stock after cursor (empty
// for the first page), limit entries long (zero means 50, at most 500): levels
// first, then discrepancies. A cursor no page returned is
// ErrInvalidCursor.
func StockOf(ctx context.Context, q Querier, school, cursor string, limit int) (StockPage, error) {
	section, after, err := decodeStockCursor(cursor)
	if err != nil {
		return StockPage{}, fmt.Errorf("stock of %s: %w", school, err)
	}
	limit = pageSize(limit)
	page := StockPage{Levels: []StockLevelRow{}, Discrepancies: []DiscrepancyRow{}}

	if section == 0 {
		rows, _ := q.Query(ctx, stockLevelsSQL, school, after, limit+1)
		page.Levels, err = pgx.CollectRows(rows, scanStockLevel)
		if err != nil {
			return StockPage{}, fmt.Errorf("stock of %s: %w", school, err)
		}
		if len(page.Levels) > limit {
			page.Levels = page.Levels[:limit]
			last := page.Levels[limit-1].firstPosition
			page.Next = encodeStockCursor(0, last)
			return page, nil
		}
		after = nil
	}

	room := limit - len(page.Levels)
	before := int64(1<<63 - 1)
	if p, ok := after.(int64); ok {
		before = p
	}
	rows, _ := q.Query(ctx, stockDiscrepanciesSQL, school, before, room+1)
	page.Discrepancies, err = pgx.CollectRows(rows, scanDiscrepancy)
	if err != nil {
		return StockPage{}, fmt.Errorf("stock of %s: %w", school, err)
	}
	switch {
	case len(page.Discrepancies) <= room:
	case room == 0:
		// The levels filled the page: the discrepancies start the next.
		page.Discrepancies = page.Discrepancies[:0]
		page.Next = encodeStockCursor(0, page.Levels[len(page.Levels)-1].firstPosition)
	default:
		page.Discrepancies = page.Discrepancies[:room]
		page.Next = encodeStockCursor(1, int64(page.Discrepancies[room-1].Position))
	}
	return page, nil
}

func scanStockLevel(row pgx.CollectableRow) (StockLevelRow, error) {
	var l StockLevelRow
	err := row.Scan(&l.DrugName, &l.Expected, &l.Received, &l.Used, &l.LastCount,
		&l.LastCountKind, &l.LastCountedBy, &l.LastCountWitness, &l.LastCountedAt,
		&l.Discrepancies, &l.firstPosition)
	return l, err
}

func scanDiscrepancy(row pgx.CollectableRow) (DiscrepancyRow, error) {
	var d DiscrepancyRow
	var pos int64
	err := row.Scan(&d.DrugName, &d.Expected, &d.Counted, &d.Context, &d.By, &d.At, &pos)
	d.Position = uint64(pos)
	return d, err
}

// encodeStockCursor returns the cursor after the entry of section (0 for
// levels, 1 for discrepancies) at position.
func encodeStockCursor(section int, position int64) string {
	raw := strconv.Itoa(section) + "," + strconv.FormatInt(position, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// decodeStockCursor returns the section and the position of cursor; the
// first section and no position for an empty cursor.
func decodeStockCursor(cursor string) (int, any, error) {
	if cursor == "" {
		return 0, nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, nil, ErrInvalidCursor
	}
	s, p, ok := strings.Cut(string(raw), ",")
	section, err1 := strconv.Atoi(s)
	position, err2 := strconv.ParseInt(p, 10, 64)
	if !ok || err1 != nil || err2 != nil || section < 0 || section > 1 || position <= 0 {
		return 0, nil, ErrInvalidCursor
	}
	return section, position, nil
}
