package loadtest

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/readapi"
)

// Config sets a load; zero values take the defaults.
type Config struct {
	Clients  int           // callers at once; default 32
	Duration time.Duration // default 60s
	// Seed makes the mix repeatable: client i draws from its own source,
	// seeded with Seed and i.
	Seed uint64
}

func (c Config) withDefaults() Config {
	if c.Clients <= 0 {
		c.Clients = 32
	}
	if c.Duration <= 0 {
		c.Duration = 60 * time.Second
	}
	return c
}

// Outcome is one request of a load: its route, when it started, what it
// got, and whether that was an answer the request may get.
type Outcome struct {
	Route     string
	RequestID string
	Start     time.Time
	Latency   time.Duration
	Status    int    // 0 when no answer came
	Err       string // why no answer came
	Expected  bool
	// Problem is the start of the body of an answer not expected: a
	// problem's type, title and detail, which name no health information.
	Problem string
}

// Ack is an event a command's 2xx answer said the log recorded.
type Ack struct {
	EventID  string
	Position uint64
}

// Result is what a load did and what its answers promised.
type Result struct {
	Clients    int
	Start, End time.Time
	Outcomes   []Outcome
	// Acks are the events of every command answered 2xx.
	Acks []Ack
	// Blocked are the attempt IDs of the doses answered 422, which the
	// log records as MedicationAdministrationBlocked.
	Blocked []string
	// PHIReads are the request IDs of the reads of health information
	// answered 200, each of which the log must hold an access event of.
	PHIReads []string
}

// Unexpected returns the outcomes that were not an answer their request
// may get: a 5xx, another status, or no answer.
func (r *Result) Unexpected() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if !o.Expected {
			out = append(out, o)
		}
	}
	return out
}

// Play runs cfg.Clients callers against d for cfg.Duration, or until ctx
// ends, each drawing requests from the mix: about four reads in five
// (charts, dose records, a school's doses of the day, student searches,
// access reports) and one command in five (vitals, visits, doses given,
// doses a life-threatening allergy blocks, alerts raised and resolved).
// A caller writes only to students of its own, so that callers do not
// race each other for a chart.
func Play(ctx context.Context, c *Client, d *District, cfg Config) *Result {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()

	students := d.students()
	workers := make([]*worker, cfg.Clients)
	for i := range workers {
		workers[i] = newWorker(c, d, students, i, cfg)
	}
	res := &Result{Clients: cfg.Clients, Start: time.Now()}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	res.End = time.Now()
	for _, w := range workers {
		res.Outcomes = append(res.Outcomes, w.res.Outcomes...)
		res.Acks = append(res.Acks, w.res.Acks...)
		res.Blocked = append(res.Blocked, w.res.Blocked...)
		res.PHIReads = append(res.PHIReads, w.res.PHIReads...)
	}
	return res
}

// students returns every student of d, ordered by ID.
func (d *District) students() []Student {
	var all []Student
	for _, s := range d.Schools {
		all = append(all, s.Students...)
	}
	slices.SortFunc(all, func(a, b Student) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return all
}

// op is one kind of request of the mix, with its share of the requests.
type op struct {
	weight int
	do     func(*worker, context.Context)
}

// mix is the load's requests: reads weigh 80, commands 20.
var mix = []op{
	{30, (*worker).readChart},
	{10, (*worker).readAdministrations},
	{15, (*worker).readDoseDay},
	{15, (*worker).searchStudents},
	{10, (*worker).readAccess},
	{6, (*worker).recordVitals},
	{4, (*worker).recordVisit},
	{5, (*worker).giveDose},
	{2, (*worker).giveBlockedDose},
	{3, (*worker).raiseOrResolveAlert},
}

// The route names of the mix's requests, as the report prints them: the
// route pattern, and for doses the answer expected.
const (
	routeChart           = "GET /v1/students/:id"
	routeAdministrations = "GET /v1/students/:id/administrations"
	routeDoseDay         = "GET /v1/schools/:id/doses"
	routeSearch          = "GET /v1/students"
	routeAccess          = "GET /v1/students/:id/access"
	routeVitals          = "POST /v1/students/:id/vitals"
	routeVisit           = "POST /v1/students/:id/visits"
	routeDose            = "POST /v1/students/:id/administrations"
	routeBlockedDose     = "POST /v1/students/:id/administrations (422)"
	routeAlert           = "POST /v1/students/:id/alerts"
	routeResolve         = "POST /v1/students/:id/alerts/:alert/resolve"
)

// worker is one caller of a load.
type worker struct {
	c   *Client
	d   *District
	id  int
	rng *rand.Rand
	all []Student
	// own are the students this caller writes to; next is the index of
	// each one's next free dose slot.
	own  []Student
	next []int
	// alert is the caller's alert raised and not yet resolved.
	alert *pendingAlert
	res   Result
}

type pendingAlert struct{ student, id string }

func newWorker(c *Client, d *District, all []Student, id int, cfg Config) *worker {
	w := &worker{c: c, d: d, id: id, all: all,
		rng: rand.New(rand.NewPCG(cfg.Seed, uint64(id)))}
	for i := id; i < len(all); i += cfg.Clients {
		w.own = append(w.own, all[i])
	}
	if len(w.own) == 0 {
		// More callers than students: some share a student.
		w.own = []Student{all[id%len(all)]}
	}
	w.next = make([]int, len(w.own))
	return w
}

// run sends requests until ctx ends. After an answer it did not expect
// it pauses briefly, so that an outage is not met with a busy loop.
func (w *worker) run(ctx context.Context) {
	total := 0
	for _, o := range mix {
		total += o.weight
	}
	for ctx.Err() == nil {
		n := w.rng.IntN(total)
		for _, o := range mix {
			if n -= o.weight; n < 0 {
				o.do(w, ctx)
				break
			}
		}
		if k := len(w.res.Outcomes); k > 0 && !w.res.Outcomes[k-1].Expected {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// record keeps a's outcome as one of route, expected when its status is
// want. A 200 of a read of health information is kept among PHIReads,
// and the events of a command's 2xx among Acks.
func (w *worker) record(ctx context.Context, route string, a Answer, want int, phi bool) {
	if ctx.Err() != nil && a.Err != nil {
		// The load ended while the request was on its way.
		return
	}
	o := Outcome{Route: route, RequestID: a.RequestID, Start: a.Start, Latency: a.Latency,
		Status: a.Status, Expected: a.Err == nil && a.Status == want}
	if a.Err != nil {
		o.Err = a.Err.Error()
	}
	if !o.Expected {
		o.Problem = cut(string(a.Body), 300)
	}
	w.res.Outcomes = append(w.res.Outcomes, o)
	switch {
	case phi && a.Status == http.StatusOK:
		w.res.PHIReads = append(w.res.PHIReads, a.RequestID)
	case a.Status >= 200 && a.Status < 300:
		w.keepAcks(a.Body)
	}
}

// keepAcks keeps the events a command's answer says were recorded.
func (w *worker) keepAcks(body []byte) {
	var written readapi.Written
	if json.Unmarshal(body, &written) != nil {
		return
	}
	for _, e := range written.Events {
		w.res.Acks = append(w.res.Acks, Ack{EventID: e.ID, Position: e.Position})
	}
}

func (w *worker) anyStudent() Student { return w.all[w.rng.IntN(len(w.all))] }

func (w *worker) anySchool() School { return w.d.Schools[w.rng.IntN(len(w.d.Schools))] }

// nurseOf returns the token of one of school's nurses, this caller's.
func (w *worker) nurseOf(school string) string {
	for _, s := range w.d.Schools {
		if s.ID == school {
			return s.Nurses[w.id%len(s.Nurses)].Token
		}
	}
	return ""
}

func (w *worker) readChart(ctx context.Context) {
	s := w.anyStudent()
	a := w.c.Do(ctx, http.MethodGet, "/v1/students/"+s.ID, w.nurseOf(s.SchoolID), nil)
	w.record(ctx, routeChart, a, http.StatusOK, true)
}

func (w *worker) readAdministrations(ctx context.Context) {
	s := w.anyStudent()
	a := w.c.Do(ctx, http.MethodGet, "/v1/students/"+s.ID+"/administrations", w.nurseOf(s.SchoolID), nil)
	w.record(ctx, routeAdministrations, a, http.StatusOK, true)
}

func (w *worker) readDoseDay(ctx context.Context) {
	school := w.anySchool()
	a := w.c.Do(ctx, http.MethodGet, "/v1/schools/"+school.ID+"/doses", w.nurseOf(school.ID), nil)
	w.record(ctx, routeDoseDay, a, http.StatusOK, true)
}

// searchStudents looks for students whose name starts as a student's
// family name does, at the nurse's school.
func (w *worker) searchStudents(ctx context.Context) {
	s := w.anyStudent()
	q := url.Values{"q": {s.FamilyName[:3]}}
	a := w.c.Do(ctx, http.MethodGet, "/v1/students?"+q.Encode(), w.nurseOf(s.SchoolID), nil)
	w.record(ctx, routeSearch, a, http.StatusOK, true)
}

// readAccess asks, as the compliance officer, who read a student's chart.
func (w *worker) readAccess(ctx context.Context) {
	s := w.anyStudent()
	a := w.c.Do(ctx, http.MethodGet, "/v1/students/"+s.ID+"/access", w.d.Officer.Token, nil)
	w.record(ctx, routeAccess, a, http.StatusOK, true)
}

func (w *worker) ownStudent() (int, Student) {
	i := w.rng.IntN(len(w.own))
	return i, w.own[i]
}

func (w *worker) recordVitals(ctx context.Context) {
	_, s := w.ownStudent()
	temp, pulse, spo2 := 36.5+w.rng.Float64(), 70+w.rng.IntN(40), 95+w.rng.IntN(5)
	a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+s.ID+"/vitals", w.nurseOf(s.SchoolID),
		readapi.VitalsRequest{EntryID: uuid.NewString(), MeasuredAt: time.Now().Add(-time.Second),
			TemperatureC: &temp, HeartRate: &pulse, SpO2: &spo2})
	w.record(ctx, routeVitals, a, http.StatusCreated, false)
}

func (w *worker) recordVisit(ctx context.Context) {
	_, s := w.ownStudent()
	out := time.Now().Add(-time.Second)
	a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+s.ID+"/visits", w.nurseOf(s.SchoolID),
		readapi.VisitRequest{EntryID: uuid.NewString(), TimeIn: out.Add(-12 * time.Minute), TimeOut: out,
			Reasons: []string{"headache"}, Disposition: "return_to_class"})
	w.record(ctx, routeVisit, a, http.StatusCreated, false)
}

// doseWindow is how far from its slot a dose is given at most here,
// inside the standard window of an hour.
const doseWindow = 55 * time.Minute

// giveDose gives a student of its own the dose of its order's next free
// slot within the window; with no slot left it records vitals instead.
func (w *worker) giveDose(ctx context.Context) {
	i, s := w.ownStudent()
	now := time.Now()
	slots := s.Order.Slots
	for w.next[i] < len(slots) && now.Sub(slots[w.next[i]]) > doseWindow {
		w.next[i]++
	}
	if w.next[i] == len(slots) {
		w.recordVitals(ctx)
		return
	}
	slot := slots[w.next[i]]
	w.next[i]++
	a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+s.ID+"/administrations", w.nurseOf(s.SchoolID),
		doseOf(s, s.Order, now, slot))
	w.record(ctx, routeDose, a, http.StatusCreated, false)
}

// giveBlockedDose gives amoxicillin to a student with a life-threatening
// penicillin allergy: the answer must be 422, and the log records the
// attempt.
func (w *worker) giveBlockedDose(ctx context.Context) {
	s, ok := w.allergic()
	if !ok {
		w.recordVisit(ctx)
		return
	}
	now := time.Now()
	req := doseOf(s, *s.Blocked, now, now.Truncate(time.Minute))
	a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+s.ID+"/administrations", w.nurseOf(s.SchoolID), req)
	w.record(ctx, routeBlockedDose, a, http.StatusUnprocessableEntity, false)
	if a.Status == http.StatusUnprocessableEntity && refusedFor(a.Body, "allergy") {
		w.res.Blocked = append(w.res.Blocked, req.AttemptID)
	}
}

// allergic returns a student of its own with an order the allergy
// refuses, else any such student.
func (w *worker) allergic() (Student, bool) {
	for _, pool := range [][]Student{w.own, w.all} {
		for range len(pool) {
			if s := pool[w.rng.IntN(len(pool))]; s.Blocked != nil {
				return s, true
			}
		}
	}
	return Student{}, false
}

func doseOf(s Student, o Order, givenAt, slot time.Time) readapi.AdministrationRequest {
	return readapi.AdministrationRequest{AttemptID: uuid.NewString(), OrderID: o.ID, StudentID: s.ID,
		DrugName: o.Drug, DoseAmount: o.Amount, DoseUnit: o.Unit, Route: o.Route,
		GivenAt: givenAt, ScheduledFor: slot}
}

// refusedFor reports whether a 422 problem names check among its failed
// checks.
func refusedFor(body []byte, check string) bool {
	var p struct {
		Checks []readapi.FailedCheck `json:"checks"`
	}
	if json.Unmarshal(body, &p) != nil {
		return false
	}
	return slices.ContainsFunc(p.Checks, func(f readapi.FailedCheck) bool { return f.Check == check })
}

// raiseOrResolveAlert resolves the caller's open alert, or raises one on
// a student of its own.
func (w *worker) raiseOrResolveAlert(ctx context.Context) {
	if p := w.alert; p != nil {
		s := w.studentByID(p.student)
		a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+p.student+"/alerts/"+p.id+"/resolve",
			w.nurseOf(s.SchoolID), readapi.ResolveRequest{Outcome: "inhaler given; back to class"})
		w.record(ctx, routeResolve, a, http.StatusCreated, false)
		// Without an answer the alert may be resolved or not: it is left
		// alone either way, so that no later request depends on a guess.
		w.alert = nil
		return
	}
	_, s := w.ownStudent()
	id := uuid.NewString()
	a := w.c.Do(ctx, http.MethodPost, "/v1/students/"+s.ID+"/alerts", w.nurseOf(s.SchoolID),
		readapi.AlertRequest{AlertID: id, Kind: "asthma", Location: "gym"})
	w.record(ctx, routeAlert, a, http.StatusCreated, false)
	if a.Status == http.StatusCreated {
		w.alert = &pendingAlert{student: s.ID, id: id}
	}
}

func (w *worker) studentByID(id string) Student {
	for _, s := range w.own {
		if s.ID == id {
			return s
		}
	}
	return Student{}
}
