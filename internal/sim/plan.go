package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// Config sizes the district and says where its days fall.
type Config struct {
	// Seed chooses everything: the same seed and sizes give the same
	// district, names, records and identifiers.
	Seed uint64
	// Schools, Students (in the whole district) and Days (school days
	// played) size the simulation.
	Schools  int
	Students int
	Days     int
	// LastDay is the last school day played, as 2006-01-02, before
	// today; empty means the last weekday before today in the district's
	// time zone. The days played are the Days weekdays ending on it.
	LastDay string
	// Workers is how many students of a school are set up at once; 4
	// when zero.
	Workers int
	// Now is the clock that says what today is; time.Now when nil.
	Now func() time.Time
}

// The bounds of a Config.
const (
	maxSchools  = 50
	maxStudents = 100_000
	maxDays     = 60
)

// Validate refuses sizes out of bounds and a last day that is not a date
// before today, naming each.
func (c Config) Validate() error {
	var errs []error
	if c.Schools < 1 || c.Schools > maxSchools {
		errs = append(errs, fmt.Errorf("schools: must be 1 to %d", maxSchools))
	}
	if c.Students < c.Schools || c.Students > maxStudents {
		errs = append(errs, fmt.Errorf("students: must be from the number of schools to %d", maxStudents))
	}
	if c.Days < 1 || c.Days > maxDays {
		errs = append(errs, fmt.Errorf("days: must be 1 to %d", maxDays))
	}
	if c.LastDay != "" {
		if _, err := time.Parse(time.DateOnly, c.LastDay); err != nil {
			errs = append(errs, errors.New("last day: must be a date as 2006-01-02"))
		}
	}
	if c.Workers < 0 {
		errs = append(errs, errors.New("workers: must not be negative"))
	}
	return errors.Join(errs...)
}

// Account is one account of the district, with its demo password.
type Account struct {
	Email       string
	Password    string
	DisplayName string
	Role        domain.Role
	// School is the index of the account's school in the plan; -1 for
	// an account of the district or of the whole system.
	School int
	// Key is the Idempotency-Key the account is created with, so that the
	// same seed makes the same account ID.
	Key string
}

// Plan is a district and its days, drawn from a Config: every request
// the simulation sends, in order, with its body. NewPlan makes it
// without I/O; Run sends it.
type Plan struct {
	cfg      Config
	zone     *time.Location
	days     []time.Time // midnight of each school day, in zone
	start    time.Time   // the first day of the school year
	district string
	domain   string // of every account's address
	key      string // the district's creation

	admin, districtAdmin, officer, auditor *Account
	schools                                []*schoolPlan
	// lanes[d] are the district's steps after every school has played
	// day d: compliance reviews, an emergency access, the auditor.
	lanes [][]step
}

// level is the grades a school teaches.
type level struct {
	name   string // "Elementary School"
	grades []string
}

var (
	elementary = level{"Elementary School", []string{"K", "1", "2", "3", "4", "5"}}
	middle     = level{"Middle School", []string{"6", "7", "8"}}
	high       = level{"High School", []string{"9", "10", "11", "12"}}
	secondary  = level{"Secondary School", []string{"6", "7", "8", "9", "10", "11", "12"}}
	k12        = level{"Academy", []string{"K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"}}
)

// levels returns the level of each of n schools: one school teaches
// K-12, two split at grade 6, and more run two elementary schools to
// each middle and high school.
func levels(n int) []level {
	switch n {
	case 1:
		return []level{k12}
	case 2:
		return []level{elementary, secondary}
	}
	cycle := []level{elementary, middle, high, elementary}
	out := make([]level, n)
	for i := range out {
		out[i] = cycle[i%len(cycle)]
	}
	return out
}

// schoolPlan is one school: its staff, its students, the controlled
// stock it receives, and its days.
type schoolPlan struct {
	index    int
	name     string
	level    level
	key      string
	admin    *Account
	nurses   []*Account
	students []*studentPlan
	receipts []step
	days     [][]step
	// stock is what the school's controlled stock holds of each drug as
	// the days are planned; stocked names the drugs in the order received.
	stock   map[string]int
	stocked []string
	// witnessed counts the witnessed steps, to share them among the
	// nurses.
	witnessed int
}

// NewPlan validates cfg and draws the district it describes.
func NewPlan(cfg Config) (*Plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	p := &Plan{cfg: cfg}
	src := sourceOf(cfg.Seed, "district")
	if err := p.calendar(pick(src, zones)); err != nil {
		return nil, err
	}
	p.district = pick(src, districtNames)
	p.domain = fmt.Sprintf("%s-%d.example", slug(p.district), cfg.Seed)
	p.key = src.uuid()
	p.accounts(src)
	p.schoolsOf(src)
	for _, s := range p.schools {
		p.studentsOf(s)
		p.receive(s)
	}
	p.playDays()
	return p, nil
}

// calendar finds the zone and the days played: the cfg.Days weekdays
// ending on the last day.
func (p *Plan) calendar(zone string) error {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return fmt.Errorf("time zone %s: %w", zone, err)
	}
	p.zone = loc
	now := p.cfg.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	last := today.AddDate(0, 0, -1)
	if p.cfg.LastDay != "" {
		d, _ := time.Parse(time.DateOnly, p.cfg.LastDay)
		last = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		if !last.Before(today) {
			return errors.New("last day: must be before today, so that every time of the day has passed")
		}
	}
	for day := last; len(p.days) < p.cfg.Days; day = day.AddDate(0, 0, -1) {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			p.days = append([]time.Time{day}, p.days...)
		}
	}
	p.start = schoolYearStart(p.days[0])
	return nil
}

// schoolYearStart returns the 20th of August at least a week before day.
func schoolYearStart(day time.Time) time.Time {
	week := day.AddDate(0, 0, -7)
	start := time.Date(week.Year(), time.August, 20, 0, 0, 0, 0, day.Location())
	if start.After(week) {
		start = start.AddDate(-1, 0, 0)
	}
	return start
}

// accounts draws the accounts of the district and of the system.
func (p *Plan) accounts(src *source) {
	p.admin = p.account(src, "admin", domain.RoleSysadmin, -1)
	p.districtAdmin = p.account(src, "district.admin", domain.RoleDistrictAdmin, -1)
	p.officer = p.account(src, "compliance", domain.RoleComplianceOfficer, -1)
	p.auditor = p.account(src, "auditor", domain.RoleAuditor, -1)
}

// account draws an account whose address starts with local.
func (p *Plan) account(src *source, local string, role domain.Role, school int) *Account {
	return &Account{
		Email:       local + "@" + p.domain,
		Password:    fmt.Sprintf("%s-%s-%04d!", pick(src, passwordWords), pick(src, passwordWords), src.r.IntN(10000)),
		DisplayName: pick(src, givenNames) + " " + pick(src, familyNames),
		Role:        role,
		School:      school,
		Key:         src.uuid(),
	}
}

// schoolsOf draws the schools and their staff: an office administrator
// and two nurses, one more for each further 150 students. Each witness
// confirms at most 10 doses or counts a minute (the service's limit per
// address), so a school's nurses bound how fast its days are played.
func (p *Plan) schoolsOf(src *source) {
	names := src.sample(len(schoolNames), p.cfg.Schools)
	for i, lvl := range levels(p.cfg.Schools) {
		name := schoolNames[names[i%len(names)]]
		if i >= len(schoolNames) {
			name = fmt.Sprintf("%s %d", name, i/len(schoolNames)+1)
		}
		s := &schoolPlan{index: i, name: name + " " + lvl.name, level: lvl, key: src.uuid()}
		tag := slug(name)
		s.admin = p.account(src, "office."+tag, domain.RoleSchoolAdmin, i)
		size := p.schoolSize(i)
		for n := 1; n <= 2+(size-1)/150; n++ {
			s.nurses = append(s.nurses, p.account(src, fmt.Sprintf("nurse%d.%s", n, tag), domain.RoleNurse, i))
		}
		p.schools = append(p.schools, s)
	}
}

// schoolSize is how many students school i has: the district's, dealt
// in turn.
func (p *Plan) schoolSize(i int) int {
	n := p.cfg.Students / p.cfg.Schools
	if i < p.cfg.Students%p.cfg.Schools {
		n++
	}
	return n
}

// Accounts returns every account of the plan: the system administrator,
// the district's, then each school's.
func (p *Plan) Accounts() []*Account {
	out := []*Account{p.admin, p.districtAdmin, p.officer, p.auditor}
	for _, s := range p.schools {
		out = append(out, s.admin)
		out = append(out, s.nurses...)
	}
	return out
}

// Admin returns the first system administrator, whom the caller of Run
// creates with the commands directly, as `whitecross users add` does.
func (p *Plan) Admin() Account { return *p.admin }

// Days returns the school days played, as dates.
func (p *Plan) Days() []string {
	out := make([]string, len(p.days))
	for i, d := range p.days {
		out[i] = d.Format(time.DateOnly)
	}
	return out
}

// Zone returns the district's time zone.
func (p *Plan) Zone() string { return p.zone.String() }

// slug returns name in lower case with its words joined by "-".
func slug(name string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), "-"))
}

// The placeholders of a step's path and body, filled in as Run learns
// the IDs the service gave.
const (
	phStudent  = "{student}"
	phSchool   = "{school}"
	phDistrict = "{district}"
	phActor    = "{actor}"
	phUser     = "{user}"
)

// ref names a student of the plan: the index-th of school school.
type ref struct{ school, index int }

// step is one request, as planned: who sends it, where, with what body
// and idempotency key, and what it must answer.
type step struct {
	at     time.Time // when it happens in the simulated day
	by     *Account
	method string
	path   string // may hold the placeholders
	target ref    // the student {student} names, or the school {school} names
	key    string
	body   any
	expect expect
	// count is the tally the step adds to once it answered as expected.
	count string
	// after makes a read wait for the read models to reach the last
	// command of its lane.
	after bool
	// witness is the nurse whose credentials the body carries, whose
	// confirmations the service limits.
	witness *Account
	// makes says what the answer's id is the ID of: the district, the
	// school target names, the account subject, the student target
	// names.
	makes made
	// subject is the account the step creates, or whose activity
	// {user} names.
	subject *Account
}

// made is what a step's answer names.
type made int

const (
	madeNothing made = iota
	madeDistrict
	madeSchool
	madeAccount
	madeStudent
)

// expect is the answer a step must get: 2xx when zero, else status, and
// for a refused dose the check that refused it. A read that may find
// nothing yet (the ledger's first checkpoint) takes a 404 as well.
type expect struct {
	status   int
	check    string
	notFound bool
}

// post returns a command of by, under key.
func post(at time.Time, by *Account, path string, target ref, key string, body any, count string) step {
	return step{at: at, by: by, method: "POST", path: path, target: target, key: key, body: body, count: count}
}

// get returns a read of by.
func get(at time.Time, by *Account, path string, target ref, count string) step {
	return step{at: at, by: by, method: "GET", path: path, target: target, count: count}
}

// enrolment is the request that enrols st.
func (p *Plan) enrolment(st *studentPlan, s *schoolPlan) step {
	e := post(p.start, s.admin, "/v1/students", st.ref, st.key, readapi.EnrolRequest{
		StudentNumber: st.number, DistrictID: phDistrict, SchoolID: phSchool,
		GivenName: st.given, FamilyName: st.family, BirthDate: st.birth.Format(time.DateOnly),
		Grade: st.grade, Gender: st.gender, EnrolledOn: st.enrolled.Format(time.DateOnly),
	}, "students")
	e.makes = madeStudent
	return e
}
