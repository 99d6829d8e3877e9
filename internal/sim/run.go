package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/whitecross/whitecross/readapi"
)

// Result is what a run made and did.
type Result struct {
	Logins  Logins
	Counts  Counts
	Elapsed time.Duration
}

// Options are what Run needs besides the plan.
type Options struct {
	// AdminID is the ID of Plan.Admin, which the caller created; the
	// logins name it.
	AdminID string
	// Progress, when not nil, is told of each phase, in identifiers and
	// counts only; one call at a time.
	Progress func(string)
}

// Run sends plan to the service c talks to: it sets the district up,
// then plays each day, the schools of a day at once and the district's
// reviews after them. Plan.Admin must exist already and be able to log
// in; every other account logs in when it first acts.
//
// Every answer must be the one planned: a blocked dose the service
// gives, or a command it refuses, stops the run with an error that
// names the request (never its body).
func Run(ctx context.Context, plan *Plan, c *Client, opts Options) (*Result, error) {
	var progress sync.Mutex
	say := func(msg string) {
		if opts.Progress != nil {
			progress.Lock()
			defer progress.Unlock()
			opts.Progress(msg)
		}
	}
	r := &runner{p: plan, c: c, progress: say, students: map[ref]string{},
		users: map[*Account]string{plan.admin: opts.AdminID}, sessions: map[*Account]*sessionSlot{},
		pacers: map[*Account]*pacer{}, counts: Counts{}}
	start := time.Now()
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	if err := r.catchUp(ctx); err != nil {
		return nil, err
	}
	for d := range plan.days {
		if err := r.play(ctx, d); err != nil {
			return nil, fmt.Errorf("day %s: %w", plan.days[d].Format(time.DateOnly), err)
		}
	}
	return &Result{Logins: r.logins(), Counts: r.counts, Elapsed: time.Since(start)}, nil
}

// runner is one run: the IDs the service gave, the sessions, the counts.
type runner struct {
	p        *Plan
	c        *Client
	progress func(string)

	mu       sync.Mutex
	district string
	schools  []string
	students map[ref]string
	users    map[*Account]string
	// position is the newest log position an answer named.
	position uint64
	sessions map[*Account]*sessionSlot
	pacers   map[*Account]*pacer
	counts   Counts
}

// lane is a sequence of steps sent one after the other; it remembers the
// log position of its last command, for the reads that wait for it.
type lane struct{ position uint64 }

// setUp creates the organisation and the accounts, then sets up the
// schools at once: in each, Workers students at a time, then the
// receipts of controlled stock.
func (r *runner) setUp(ctx context.Context) error {
	r.schools = make([]string, len(r.p.schools))
	var l lane
	for _, st := range r.p.organisation() {
		if err := r.send(ctx, &l, st); err != nil {
			return fmt.Errorf("organisation: %w", err)
		}
	}
	r.progress(fmt.Sprintf("district %s: %d schools, %d accounts", r.district, len(r.schools),
		len(r.p.Accounts())))
	start := time.Now()
	return parallel(ctx, len(r.p.schools), func(ctx context.Context, i int) error {
		s := r.p.schools[i]
		err := parallel(ctx, r.p.cfg.Workers, func(ctx context.Context, w int) error {
			var l lane
			for k := w; k < len(s.students); k += r.p.cfg.Workers {
				if err := r.sendAll(ctx, &l, s.students[k].setup); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			err = r.sendAll(ctx, &lane{}, s.receipts)
		}
		if err != nil {
			return fmt.Errorf("school %s: %w", r.schools[i], err)
		}
		r.progress(fmt.Sprintf("school %s: %d students set up in %s", r.schools[i], len(s.students),
			time.Since(start).Round(100*time.Millisecond)))
		return nil
	})
}

// catchUp waits until the read models have applied the whole setup, so
// that the nurses find every student.
func (r *runner) catchUp(ctx context.Context) error {
	s, err := r.session(ctx, r.p.districtAdmin)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := s.WaitFor(ctx, r.position); err != nil {
		return fmt.Errorf("wait for the read models: %w", err)
	}
	r.progress(fmt.Sprintf("read models at position %d after %s", r.position,
		time.Since(start).Round(100*time.Millisecond)))
	return nil
}

// play plays day d at every school at once, then the district's steps.
func (r *runner) play(ctx context.Context, d int) error {
	start := time.Now()
	err := parallel(ctx, len(r.p.schools), func(ctx context.Context, i int) error {
		if err := r.sendAll(ctx, &lane{}, r.p.schools[i].days[d]); err != nil {
			return fmt.Errorf("school %s: %w", r.schools[i], err)
		}
		return nil
	})
	if err == nil {
		err = r.sendAll(ctx, &lane{}, r.p.lanes[d])
	}
	if err == nil {
		r.progress(fmt.Sprintf("day %s played in %s", r.p.days[d].Format(time.DateOnly),
			time.Since(start).Round(100*time.Millisecond)))
	}
	return err
}

func (r *runner) sendAll(ctx context.Context, l *lane, steps []step) error {
	for _, st := range steps {
		if err := r.send(ctx, l, st); err != nil {
			return err
		}
	}
	return nil
}

// answer is what the simulation reads of a command's answer.
type answer struct {
	ID       string                  `json:"id"`
	Position uint64                  `json:"position"`
	Events   []readapi.RecordedEvent `json:"events"`
}

// send sends one step as its account, checks that it answered as
// planned, and keeps what the answer made.
func (r *runner) send(ctx context.Context, l *lane, st step) error {
	s, err := r.session(ctx, st.by)
	if err != nil {
		return fmt.Errorf("%s: %w", st.by.Email, err)
	}
	path, err := r.fill(st.path, st)
	if err != nil {
		return err
	}
	var ans answer
	if st.method == "GET" {
		if st.after && l.position > 0 {
			path += map[bool]string{true: "&", false: "?"}[strings.Contains(path, "?")] +
				"after=" + strconv.FormatUint(l.position, 10)
		}
		err = s.Get(ctx, path, nil)
	} else {
		var body any
		if body, err = r.body(st); err != nil {
			return err
		}
		if st.witness != nil {
			if err := r.pacer(st.witness).wait(ctx); err != nil {
				return err
			}
		}
		err = s.Post(ctx, path, st.key, body, &ans)
	}
	if err := st.check(err); err != nil {
		return err
	}
	r.keep(st, ans)
	l.position = max(l.position, ans.Position)
	return nil
}

// check returns nil when err is the answer st expects.
func (st step) check(err error) error {
	want := st.expect
	var e *APIError
	if want.status == 0 {
		if want.notFound && errors.As(err, &e) && e.Status == http.StatusNotFound {
			return nil
		}
		return err
	}
	switch {
	case err == nil:
		return fmt.Errorf("%s %s: answered 2xx, want %d %s", st.method, st.path, want.status, want.check)
	case !errors.As(err, &e) || e.Status != want.status:
		return fmt.Errorf("want %d: %w", want.status, err)
	case want.check != "" && !Refused(err, want.check):
		return fmt.Errorf("want the check %s: %w", want.check, err)
	}
	return nil
}

// keep records the IDs an answer made, and counts the step.
func (r *runner) keep(st step, ans answer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch st.makes {
	case madeDistrict:
		r.district = ans.ID
	case madeSchool:
		r.schools[st.target.school] = ans.ID
	case madeAccount:
		r.users[st.subject] = ans.ID
	case madeStudent:
		r.students[st.target] = ans.ID
	}
	r.position = max(r.position, ans.Position)
	r.counts[st.count]++
	r.counts["requests"]++
	if st.witness != nil {
		r.counts["witness_confirmations"]++
	}
	for _, e := range ans.Events {
		switch {
		case e.Type == "DiscrepancyRecorded":
			r.counts["discrepancies"]++
		case e.Type == "VitalsRecorded" && flagged(e.Data):
			r.counts["vitals_flagged"]++
		}
	}
}

// flagged reports whether recorded vital signs were flagged.
func flagged(data json.RawMessage) bool {
	var v struct {
		Flags []json.RawMessage `json:"flags"`
	}
	return json.Unmarshal(data, &v) == nil && len(v.Flags) > 0
}

// fill replaces the placeholders of s with the IDs the service gave.
func (r *runner) fill(s string, st step) (string, error) {
	if !strings.Contains(s, "{") {
		return s, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := map[string]string{phDistrict: r.district, phActor: r.users[st.by]}
	if st.target.school >= 0 {
		ids[phSchool] = r.schools[st.target.school]
		ids[phStudent] = r.students[st.target]
	}
	if st.subject != nil {
		ids[phUser] = r.users[st.subject]
	}
	var pairs []string
	for ph, id := range ids {
		if !strings.Contains(s, ph) {
			continue
		}
		if id == "" {
			return "", fmt.Errorf("%s %s: the ID of %s was not made", st.method, st.path, ph)
		}
		pairs = append(pairs, ph, id)
	}
	return strings.NewReplacer(pairs...).Replace(s), nil
}

// body returns st's body as JSON, with its placeholders filled.
func (r *runner) body(st step) (any, error) {
	if st.body == nil {
		return nil, nil
	}
	data, err := json.Marshal(st.body)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte(`"{`)) {
		return json.RawMessage(data), nil
	}
	filled, err := r.fill(string(data), st)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(filled), nil
}

// sessionSlot holds an account's session once it has logged in.
type sessionSlot struct {
	mu sync.Mutex
	s  *Session
}

// session returns a's session, logging in the first time.
func (r *runner) session(ctx context.Context, a *Account) (*Session, error) {
	r.mu.Lock()
	slot := r.sessions[a]
	if slot == nil {
		slot = &sessionSlot{}
		r.sessions[a] = slot
	}
	r.mu.Unlock()

	slot.mu.Lock()
	defer slot.mu.Unlock()
	if slot.s != nil {
		return slot.s, nil
	}
	s, err := r.c.Login(ctx, a.Email, a.Password)
	if err != nil {
		return nil, err
	}
	slot.s = s
	r.mu.Lock()
	r.counts["logins"]++
	r.mu.Unlock()
	return s, nil
}

// pacer returns the pacer of witness a.
func (r *runner) pacer(a *Account) *pacer {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pacers[a]
	if p == nil {
		p = &pacer{}
		r.pacers[a] = p
	}
	return p
}

// pacer keeps a witness's confirmations within the service's default
// limit, 10 at once and one more every 6 seconds per address, so that
// a run waits rather than being refused. It keeps one confirmation in
// reserve: the service counts a confirmation when the request reaches
// it, and a busy service reaches one request later than the next, by up
// to the 6 seconds the reserve covers. A service that limits more
// answers 429, which the client waits out.
type pacer struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

const (
	witnessBurst   = 10
	witnessEvery   = 6 * time.Second
	witnessReserve = 1
)

func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := time.Now()
		if p.last.IsZero() {
			p.tokens = witnessBurst
		} else {
			p.tokens = min(witnessBurst, p.tokens+float64(now.Sub(p.last))/float64(witnessEvery))
		}
		p.last = now
		if p.tokens >= 1+witnessReserve {
			p.tokens--
			p.mu.Unlock()
			return nil
		}
		wait := time.Duration((1 + witnessReserve - p.tokens) * float64(witnessEvery))
		p.mu.Unlock()
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// logins lists the accounts and the IDs the run made.
func (r *runner) logins() Logins {
	p := r.p
	l := Logins{Seed: p.cfg.Seed, District: Organisation{ID: r.district, Name: p.district + " School District"},
		TimeZone: p.zone.String(), Days: p.Days()}
	for _, a := range p.Accounts() {
		la := LoginAccount{Email: a.Email, Password: a.Password, Role: string(a.Role),
			DisplayName: a.DisplayName, UserID: r.users[a]}
		if a.School >= 0 {
			la.School = ptr(a.School)
		}
		l.Accounts = append(l.Accounts, la)
	}
	for i, s := range p.schools {
		ls := LoginSchool{Index: i, ID: r.schools[i], Name: s.name, Students: len(s.students),
			Office: s.admin.Email}
		for _, st := range s.students[:min(len(s.students), maxListedStudents)] {
			ls.StudentIDs = append(ls.StudentIDs, r.students[st.ref])
		}
		for _, n := range s.nurses {
			ls.Nurses = append(ls.Nurses, n.Email)
		}
		l.Schools = append(l.Schools, ls)
	}
	return l
}

// parallel runs f(ctx, i) for i below n at once, and returns the first
// error; the others' context is cancelled then.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := f(ctx, i); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}
