package projections

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
)

// DoseState is where a scheduled dose stands on a day's list.
type DoseState string

// The states of a scheduled dose; DoseStateAt defines each.
const (
	DoseGiven   DoseState = "given"
	DoseRefused DoseState = "refused"
	DoseHeld    DoseState = "held"
	DoseMissed  DoseState = "missed"
	DoseDue     DoseState = "due"
	DoseLate    DoseState = "late"
)

// DoseStateAt returns the state of the dose scheduled at slot, an
// instant of an order whose zone is loc, whose window reaches window
// either side of it, when recorded is what the log accounts the dose as
// ("" for nothing: a blocked attempt accounts for nothing), and the clock
// reads now:
//   - given, refused, held or missed: recorded as such;
//   - due: nothing recorded and the window has not closed (now is at or
//     before slot+window), whether it has opened or not;
//   - late: nothing recorded, the window closed, and the slot's local
//     date is today's (in loc);
//   - missed: nothing recorded, the window closed, and the slot's local
//     date is before today's.
func DoseStateAt(
	recorded domain.AdministrationKind,
	slot time.Time,
	window time.Duration,
	loc *time.Location,
	now time.Time,
) DoseState {
	switch recorded {
	case domain.AdministrationGiven, domain.AdministrationRefused,
		domain.AdministrationHeld, domain.AdministrationMissed:
		return DoseState(recorded)
	}
	if !now.After(slot.Add(window)) {
		return DoseDue
	}
	if localDate(slot, loc) < localDate(now, loc) {
		return DoseMissed
	}
	return DoseLate
}

// localDate returns t's date in loc as 2006-01-02, which sorts by date.
func localDate(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(time.DateOnly)
}

// DoseDayQuery selects a school's doses of one day for DosesOfDay.
type DoseDayQuery struct {
	SchoolID string
	// Date is the day, 2006-01-02, read in each order's time zone; empty
	// means today in the zone of the school's most recent order (UTC when
	// it has none).
	Date string
	// Now is the time the states are computed at.
	Now time.Time
	// StandardWindow and TimeCriticalWindow reach either side of a
	// scheduled dose; zero takes domain.DefaultMedicationPolicy's.
	StandardWindow     time.Duration
	TimeCriticalWindow time.Duration
	// After is the cursor of the page; empty for the first.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// DoseOrder is what a day's list says of an order: whose, and what it
// gives, in which time zone.
type DoseOrder struct {
	StudentID  string `json:"student_id"`
	OrderID    string `json:"order_id"`
	DrugName   string `json:"drug_name"`
	DoseAmount string `json:"dose_amount"`
	DoseUnit   string `json:"dose_unit"`
	Route      string `json:"route"`
	TimeZone   string `json:"time_zone"`
}

// ScheduledDose is one scheduled dose of a day.
type ScheduledDose struct {
	DoseOrder
	// Time is the order's time of day, "08:00", in TimeZone.
	Time         string    `json:"time"`
	ScheduledFor time.Time `json:"scheduled_for"`
	TimeCritical bool      `json:"time_critical"`
	// WindowOpens and WindowCloses bound the times the dose may be given.
	WindowOpens  time.Time `json:"window_opens"`
	WindowCloses time.Time `json:"window_closes"`
	State        DoseState `json:"state"`
	// AttemptID and RecordedAt are those of the record that accounts for
	// the dose, when one does.
	AttemptID  string     `json:"attempt_id,omitempty"`
	RecordedAt *time.Time `json:"recorded_at,omitempty"`
	// BlockedAttempts counts the attempts the checks refused.
	BlockedAttempts int `json:"blocked_attempts"`
}

// AsNeededDoses is one as-needed order of a day, with its doses.
type AsNeededDoses struct {
	DoseOrder
	MinIntervalMinutes int `json:"min_interval_minutes"`
	MaxPerDay          int `json:"max_per_day"`
	// Given lists when each dose of the day was given, oldest first.
	Given           []time.Time `json:"given"`
	Refused         int         `json:"refused"`
	Held            int         `json:"held"`
	BlockedAttempts int         `json:"blocked_attempts"`
}

// DoseDay is a page of a school's doses of one day: the scheduled doses
// by time, student and order, then the as-needed orders by student and
// order.
type DoseDay struct {
	Date      string          `json:"date"`
	Scheduled []ScheduledDose `json:"scheduled"`
	AsNeeded  []AsNeededDoses `json:"as_needed"`
	// Next is the cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

// The SQL of DosesOfDay.
const (
	schoolZoneSQL = `
		SELECT time_zone FROM readmodel.medication_orders
		WHERE school_id = $1
		ORDER BY ordered_position DESC
		LIMIT 1`

	dayOrdersSQL = `
		SELECT o.student_id::text, o.order_id::text, o.drug_name, o.dose_amount,
			o.dose_unit, o.route, o.schedule_kind, o.schedule_times, o.time_zone,
			o.prn_min_interval_minutes, o.prn_max_per_day, o.time_critical,
			o.discontinued_at, coalesce(s.withdrawn_on::text, '')
		FROM readmodel.medication_orders o
		LEFT JOIN readmodel.medication_students s ON s.student_id = o.student_id
		WHERE o.school_id = $1 AND o.start_on <= $2::date AND o.end_on >= $2::date`

	// The records of a day lie within a day either side of its UTC
	// bounds, whatever the zone; they are matched exactly afterwards.
	dayRecordsSQL = `
		SELECT student_id::text, order_id::text, attempt_id::text, kind,
			scheduled_for, at
		FROM readmodel.medication_doses
		WHERE school_id = $1
			AND coalesce(scheduled_for, at) >= $2 AND coalesce(scheduled_for, at) < $3
		ORDER BY position`

	cursorOrderSQL = `
		SELECT schedule_times, time_zone FROM readmodel.medication_orders
		WHERE student_id = $1 AND order_id = $2`
)

// dayOrder is an order active on the day.
type dayOrder struct {
	studentID, orderID             string
	drugName, doseAmount, doseUnit string
	route, kind                    string
	times                          []string
	zone                           string
	minInterval, maxPerDay         int
	timeCritical                   bool
	discontinuedAt                 *time.Time
	withdrawnOn                    string
	loc                            *time.Location
}

func (o dayOrder) ref() DoseOrder {
	return DoseOrder{StudentID: o.studentID, OrderID: o.orderID, DrugName: o.drugName,
		DoseAmount: o.doseAmount, DoseUnit: o.doseUnit, Route: o.route, TimeZone: o.zone}
}

// dayRecord is an administration record near the day.
type dayRecord struct {
	studentID, orderID, attemptID string
	kind                          domain.AdministrationKind
	scheduledFor                  *time.Time
	at                            time.Time
}

// dayItem is one entry of the day's list, scheduled or as needed, with
// the key it is sorted and paged by.
type dayItem struct {
	key       dayKey
	scheduled *ScheduledDose
	asNeeded  *AsNeededDoses
}

// dayKey orders the day's list: the scheduled doses (section 0) by time,
// student, order and the index of the time in the order, then the
// as-needed orders (section 1) by student and order.
type dayKey struct {
	section          int
	at               time.Time
	student, orderID string
	index            int
}

func (k dayKey) compare(o dayKey) int {
	return cmp.Or(
		cmp.Compare(k.section, o.section),
		k.at.Compare(o.at),
		strings.Compare(k.student, o.student),
		strings.Compare(k.orderID, o.orderID),
		cmp.Compare(k.index, o.index),
	)
}

// DosesOfDay returns a page of the doses of q.SchoolID's active orders on
// q.Date: each scheduled dose of the day with its state (DoseStateAt),
// then each as-needed order with the doses given that day. An order is
// active on a day within its start and end dates; a scheduled dose is
// listed unless the order was discontinued at or before it, or the
// student withdrawn on or before the day, and an as-needed order unless
// it was discontinued before the day began or the student withdrawn;
// anything recorded against a dose lists it all the same. A cursor no
// page returned is ErrInvalidCursor.
func DosesOfDay(ctx context.Context, q Querier, dq DoseDayQuery) (DoseDay, error) {
	date, err := dayOf(ctx, q, dq)
	if err != nil {
		return DoseDay{}, fmt.Errorf("doses of %s: %w", dq.SchoolID, err)
	}
	orders, err := dayOrders(ctx, q, dq.SchoolID, date)
	if err != nil {
		return DoseDay{}, fmt.Errorf("doses of %s: %w", dq.SchoolID, err)
	}
	records, err := dayRecords(ctx, q, dq.SchoolID, date)
	if err != nil {
		return DoseDay{}, fmt.Errorf("doses of %s: %w", dq.SchoolID, err)
	}

	items := dayItems(orders, records, date, dq)
	start, err := pageStart(ctx, q, items, date, dq.After)
	if err != nil {
		return DoseDay{}, fmt.Errorf("doses of %s: %w", dq.SchoolID, err)
	}
	return dayPage(items[start:], date, pageSize(dq.Limit)), nil
}

// dayOf returns the day dq asks for: its Date, or today in the zone of
// the school's most recent order.
func dayOf(ctx context.Context, q Querier, dq DoseDayQuery) (time.Time, error) {
	if dq.Date != "" {
		return time.Parse(time.DateOnly, dq.Date)
	}
	rows, _ := q.Query(ctx, schoolZoneSQL, dq.SchoolID)
	zone, err := pgx.CollectOneRow(rows, pgx.RowTo[string])
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		loc = time.UTC
	}
	return time.Parse(time.DateOnly, localDate(dq.Now, loc))
}

func dayOrders(ctx context.Context, q Querier, school string, date time.Time) ([]dayOrder, error) {
	rows, _ := q.Query(ctx, dayOrdersSQL, school, date.Format(time.DateOnly))
	orders, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dayOrder, error) {
		var o dayOrder
		err := r.Scan(&o.studentID, &o.orderID, &o.drugName, &o.doseAmount, &o.doseUnit,
			&o.route, &o.kind, &o.times, &o.zone, &o.minInterval, &o.maxPerDay,
			&o.timeCritical, &o.discontinuedAt, &o.withdrawnOn)
		return o, err
	})
	if err != nil {
		return nil, err
	}
	// An order whose zone no longer loads has no doses the day can list.
	active := orders[:0]
	for _, o := range orders {
		loc, err := time.LoadLocation(o.zone)
		if err != nil || o.zone == "" {
			continue
		}
		o.loc = loc
		active = append(active, o)
	}
	return active, nil
}

func dayRecords(ctx context.Context, q Querier, school string, date time.Time) ([]dayRecord, error) {
	from, to := date.Add(-24*time.Hour), date.Add(48*time.Hour)
	rows, _ := q.Query(ctx, dayRecordsSQL, school, from, to)
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (dayRecord, error) {
		var d dayRecord
		err := r.Scan(&d.studentID, &d.orderID, &d.attemptID, &d.kind, &d.scheduledFor, &d.at)
		return d, err
	})
}

// dayItems returns the day's list, sorted: a scheduled dose for each time
// of each fixed order, an entry for each as-needed order.
func dayItems(orders []dayOrder, records []dayRecord, date time.Time, dq DoseDayQuery) []dayItem {
	standard, critical := doseWindows(dq)
	byOrder := map[[2]string][]dayRecord{}
	for _, r := range records {
		k := [2]string{r.studentID, r.orderID}
		byOrder[k] = append(byOrder[k], r)
	}

	var items []dayItem
	for _, o := range orders {
		records := byOrder[[2]string{o.studentID, o.orderID}]
		if o.kind == string(domain.SchedulePRN) {
			if item, ok := asNeededItem(o, records, date); ok {
				items = append(items, item)
			}
			continue
		}
		window := standard
		if o.timeCritical {
			window = critical
		}
		for i := range o.times {
			if item, ok := scheduledItem(o, i, records, date, window, dq.Now); ok {
				items = append(items, item)
			}
		}
	}
	slices.SortFunc(items, func(a, b dayItem) int { return a.key.compare(b.key) })
	return items
}

// doseWindows returns the windows of dq, each defaulted.
func doseWindows(dq DoseDayQuery) (standard, critical time.Duration) {
	def := domain.DefaultMedicationPolicy()
	standard, critical = dq.StandardWindow, dq.TimeCriticalWindow
	if standard <= 0 {
		standard = def.StandardWindow
	}
	if critical <= 0 {
		critical = def.TimeCriticalWindow
	}
	return standard, critical
}

// slotTime returns the instant of the order's time hhmm on date in loc,
// as the medication rules compute a scheduled dose; false when hhmm is
// no time of day.
func slotTime(date time.Time, hhmm string, loc *time.Location) (time.Time, bool) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return time.Time{}, false
	}
	y, m, d := date.Date()
	return time.Date(y, m, d, t.Hour(), t.Minute(), 0, 0, loc), true
}

// scheduledItem returns the scheduled dose at o's i-th time on date, and
// false when it is not listed; records are those of o.
func scheduledItem(
	o dayOrder,
	i int,
	records []dayRecord,
	date time.Time,
	window time.Duration,
	now time.Time,
) (dayItem, bool) {
	slot, ok := slotTime(date, o.times[i], o.loc)
	if !ok {
		return dayItem{}, false
	}
	dose := ScheduledDose{DoseOrder: o.ref(), Time: o.times[i],
		ScheduledFor: slot.UTC(), TimeCritical: o.timeCritical,
		WindowOpens: slot.Add(-window).UTC(), WindowCloses: slot.Add(window).UTC()}

	var recorded domain.AdministrationKind
	seen := false
	for _, r := range records {
		if r.scheduledFor == nil || !r.scheduledFor.Equal(slot) {
			continue
		}
		seen = true
		switch {
		case r.kind == domain.AdministrationBlocked:
			dose.BlockedAttempts++
		case recorded == "":
			recorded, dose.AttemptID = r.kind, r.attemptID
			at := r.at.UTC()
			dose.RecordedAt = &at
		}
	}
	stopped := o.discontinuedAt != nil && !o.discontinuedAt.After(slot)
	if !seen && (stopped || withdrawnBy(o, date)) {
		return dayItem{}, false
	}
	dose.State = DoseStateAt(recorded, slot, window, o.loc, now)
	key := dayKey{at: slot, student: o.studentID, orderID: o.orderID, index: i}
	return dayItem{key: key, scheduled: &dose}, true
}

// withdrawnBy reports whether o's student was withdrawn on or before date.
func withdrawnBy(o dayOrder, date time.Time) bool {
	return o.withdrawnOn != "" && o.withdrawnOn <= date.Format(time.DateOnly)
}

// asNeededItem returns the entry of as-needed order o on date, and false
// when it is not listed; records are those of o.
func asNeededItem(o dayOrder, records []dayRecord, date time.Time) (dayItem, bool) {
	entry := AsNeededDoses{DoseOrder: o.ref(), MinIntervalMinutes: o.minInterval,
		MaxPerDay: o.maxPerDay, Given: []time.Time{}}
	day := date.Format(time.DateOnly)
	seen := false
	for _, r := range records {
		if r.scheduledFor != nil || localDate(r.at, o.loc) != day {
			continue
		}
		seen = true
		switch r.kind {
		case domain.AdministrationGiven:
			entry.Given = append(entry.Given, r.at.UTC())
		case domain.AdministrationRefused:
			entry.Refused++
		case domain.AdministrationHeld:
			entry.Held++
		case domain.AdministrationBlocked:
			entry.BlockedAttempts++
		}
	}
	slices.SortFunc(entry.Given, time.Time.Compare)

	dayStarts, _ := slotTime(date, "00:00", o.loc)
	stopped := o.discontinuedAt != nil && !o.discontinuedAt.After(dayStarts)
	if !seen && (stopped || withdrawnBy(o, date)) {
		return dayItem{}, false
	}
	key := dayKey{section: 1, student: o.studentID, orderID: o.orderID}
	return dayItem{key: key, asNeeded: &entry}, true
}

// dayPage returns the first limit items as a page, with the cursor of the
// next when more remain.
func dayPage(items []dayItem, date time.Time, limit int) DoseDay {
	page := DoseDay{Date: date.Format(time.DateOnly),
		Scheduled: []ScheduledDose{}, AsNeeded: []AsNeededDoses{}}
	for _, it := range items[:min(limit, len(items))] {
		if it.scheduled != nil {
			page.Scheduled = append(page.Scheduled, *it.scheduled)
		} else {
			page.AsNeeded = append(page.AsNeeded, *it.asNeeded)
		}
	}
	if len(items) > limit {
		page.Next = encodeDayCursor(items[limit-1].key)
	}
	return page
}

// pageStart returns the index of the first item after the cursor: the
// item it names, or, when that item is no longer listed (its order
// discontinued or moved meanwhile), the place its key would take.
func pageStart(
	ctx context.Context,
	q Querier,
	items []dayItem,
	date time.Time,
	cursor string,
) (int, error) {
	if cursor == "" {
		return 0, nil
	}
	key, err := decodeDayCursor(cursor)
	if err != nil {
		return 0, err
	}
	if key.section == 0 {
		if key.at, err = cursorSlot(ctx, q, key, date); err != nil {
			return 0, err
		}
	}
	i, found := slices.BinarySearchFunc(items, key,
		func(it dayItem, k dayKey) int { return it.key.compare(k) })
	if found {
		i++
	}
	return i, nil
}

// cursorSlot returns the time of the scheduled dose key names on date.
func cursorSlot(ctx context.Context, q Querier, key dayKey, date time.Time) (time.Time, error) {
	rows, _ := q.Query(ctx, cursorOrderSQL, key.student, key.orderID)
	type found struct {
		Times []string
		Zone  string
	}
	o, err := pgx.CollectOneRow(rows, pgx.RowToStructByPos[found])
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, ErrInvalidCursor
	}
	if err != nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(o.Zone)
	if err != nil || key.index >= len(o.Times) {
		return time.Time{}, ErrInvalidCursor
	}
	slot, ok := slotTime(date, o.Times[key.index], loc)
	if !ok {
		return time.Time{}, ErrInvalidCursor
	}
	return slot, nil
}

// encodeDayCursor returns the cursor after key: its section, student,
// order and index, never a time or a name.
func encodeDayCursor(k dayKey) string {
	raw := strings.Join([]string{strconv.Itoa(k.section), k.student, k.orderID,
		strconv.Itoa(k.index)}, ",")
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeDayCursor(cursor string) (dayKey, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return dayKey{}, ErrInvalidCursor
	}
	parts := strings.Split(string(raw), ",")
	if len(parts) != 4 {
		return dayKey{}, ErrInvalidCursor
	}
	section, err1 := strconv.Atoi(parts[0])
	index, err2 := strconv.Atoi(parts[3])
	if err1 != nil || err2 != nil || section < 0 || section > 1 || index < 0 ||
		!domain.ValidID(parts[1]) || !domain.ValidID(parts[2]) {
		return dayKey{}, ErrInvalidCursor
	}
	return dayKey{section: section, student: parts[1], orderID: parts[2], index: index}, nil
}
