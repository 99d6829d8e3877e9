package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/readapi"
)

// District is what a load plays on: the accounts it acts as, with their
// tokens, and the records it writes to. SeedDistrict makes one through
// the API.
//
// TODO: read the district that `whitecross simulate --logins FILE`
// writes, once that command exists, so that a load can play on a
// simulated district; until then SeedDistrict makes a small one.
type District struct {
	ID      string
	Schools []School
	// Officer is a compliance officer of the district.
	Officer Account
}

// School is a school of the district, with its nurses and students.
type School struct {
	ID       string
	Nurses   []Account
	Students []Student
}

// Account is a member of staff, logged in.
type Account struct {
	ID    string
	Token string
}

// Student is an enrolled student and the orders a load gives doses of.
type Student struct {
	ID         string
	SchoolID   string
	FamilyName string
	// Order is due every minute in Slots: each slot takes one dose.
	Order Order
	// Blocked, when not nil, is an order that the student's
	// life-threatening allergy refuses every dose of.
	Blocked *Order
}

// Order is a medication order, with what a dose of it must say.
type Order struct {
	ID, Drug, Amount, Unit, Route string
	// Slots are the scheduled times of its doses; empty for an order
	// whose doses are refused anyway.
	Slots []time.Time
}

// DistrictConfig sizes a seeded district; zero values take the defaults.
type DistrictConfig struct {
	Schools         int // default 2
	NursesPerSchool int // default 2
	Students        int // across the schools; default 96
}

func (c DistrictConfig) withDefaults() DistrictConfig {
	if c.Schools <= 0 {
		c.Schools = 2
	}
	if c.NursesPerSchool <= 0 {
		c.NursesPerSchool = 2
	}
	if c.Students <= 0 {
		c.Students = 96
	}
	return c
}

// slotSpan is how far before and after the moment of seeding an order's
// slots reach: a dose may be given up to an hour from its slot, so
// every slot stays within its window for slotSpan after seeding.
const slotSpan = 30 * time.Minute

const (
	adminEmail    = "root@load.example"
	adminPassword = "Load-Sysadmin-Pass-2026!"
	staffPassword = "Load-Staff-Passphrase-2026#"
)

// SeedDistrict creates a district on a fresh service through its API:
// the first administrator with `whitecross users add`, then, logged in
// with real tokens, the district, its schools, their nurses, a
// compliance officer, and students, each with an order due every minute
// around now, and every third with a life-threatening penicillin allergy
// and an amoxicillin order that it refuses.
func SeedDistrict(ctx context.Context, s *Server, c *Client, cfg DistrictConfig) (*District, error) {
	cfg = cfg.withDefaults()
	code, out := s.Run(ctx, strings.NewReader(adminPassword+"\n"),
		"users", "add", "--email", adminEmail, "--role", "sysadmin")
	if code != 0 {
		return nil, fmt.Errorf("whitecross users add: exit %d: %s", code, out)
	}
	admin, err := login(ctx, c, adminEmail, adminPassword)
	if err != nil {
		return nil, err
	}
	d, err := seedOrganisation(ctx, c, admin, cfg)
	if err != nil {
		return nil, err
	}
	return d, seedStudents(ctx, c, d, cfg.Students)
}

// seedOrganisation creates the district, its schools and their staff.
func seedOrganisation(ctx context.Context, c *Client, admin string, cfg DistrictConfig) (*District, error) {
	var district readapi.Written
	err := c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/districts", admin,
		readapi.CreateDistrictRequest{Name: "Load District"}, &district)
	if err != nil {
		return nil, err
	}
	d := &District{ID: district.ID}
	d.Officer, err = seedAccount(ctx, c, admin, readapi.CreateUserRequest{
		Email: "privacy@load.example", DisplayName: "Privacy Officer",
		Roles: []domain.Role{domain.RoleComplianceOfficer}, District: d.ID,
	})
	if err != nil {
		return nil, err
	}
	for i := range cfg.Schools {
		school, err := seedSchool(ctx, c, admin, d.ID, i, cfg.NursesPerSchool)
		if err != nil {
			return nil, err
		}
		d.Schools = append(d.Schools, school)
	}
	return d, nil
}

// seedSchool creates the i-th school of district and its nurses.
func seedSchool(ctx context.Context, c *Client, admin, district string, i, nurses int) (School, error) {
	var created readapi.Written
	err := c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/schools", admin,
		readapi.CreateSchoolRequest{DistrictID: district, Name: fmt.Sprintf("School %d", i+1)}, &created)
	if err != nil {
		return School{}, err
	}
	school := School{ID: created.ID}
	for n := range nurses {
		nurse, err := seedAccount(ctx, c, admin, readapi.CreateUserRequest{
			Email: fmt.Sprintf("nurse%d.%d@load.example", i+1, n+1), DisplayName: "School Nurse",
			Roles: []domain.Role{domain.RoleNurse}, Schools: []string{school.ID}, District: district,
		})
		if err != nil {
			return School{}, err
		}
		school.Nurses = append(school.Nurses, nurse)
	}
	return school, nil
}

// seedAccount creates the account req describes, with the staff
// password, and logs it in.
func seedAccount(ctx context.Context, c *Client, admin string, req readapi.CreateUserRequest) (Account, error) {
	req.Password = staffPassword
	var created readapi.Written
	if err := c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/users", admin, req, &created); err != nil {
		return Account{}, err
	}
	token, err := login(ctx, c, req.Email, staffPassword)
	return Account{ID: created.ID, Token: token}, err
}

// login returns an access token for email.
func login(ctx context.Context, c *Client, email, password string) (string, error) {
	var tok readapi.TokenResponse
	err := c.must(ctx, http.StatusOK, http.MethodPost, "/v1/auth/login", "",
		readapi.LoginRequest{Email: email, Password: password}, &tok)
	return tok.AccessToken, err
}

// seedStudents enrols n students across d's schools, from eight
// callers at once, and returns the first error.
func seedStudents(ctx context.Context, c *Client, d *District, n int) error {
	now := time.Now().UTC().Truncate(time.Minute)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				school := &d.Schools[i%len(d.Schools)]
				s, err := seedStudent(ctx, c, d.ID, school, i, now)
				mu.Lock()
				errs = append(errs, err)
				if err == nil {
					school.Students = append(school.Students, s)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

var (
	givenNames  = []string{"Maya", "Liam", "Ava", "Noah", "Zoe", "Ethan", "Iris", "Omar"}
	familyNames = []string{"Okafor", "Nguyen", "Garcia", "Smith", "Kowalski", "Haddad", "Ito", "Brown"}
)

// seedStudent enrols the i-th student at school, with its orders.
func seedStudent(ctx context.Context, c *Client, district string, school *School, i int, now time.Time) (Student, error) {
	nurse := school.Nurses[0].Token
	s := Student{SchoolID: school.ID, FamilyName: familyNames[i%len(familyNames)]}
	var enrolled readapi.Written
	err := c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/students", nurse, readapi.EnrolRequest{
		StudentNumber: fmt.Sprintf("L-%05d", i), DistrictID: district, SchoolID: school.ID,
		GivenName: givenNames[i%len(givenNames)], FamilyName: s.FamilyName,
		BirthDate: "2015-04-12", Grade: "4", Gender: "unknown", EnrolledOn: "2025-08-20",
	}, &enrolled)
	if err != nil {
		return s, err
	}
	s.ID = enrolled.ID
	if s.Order, err = seedOrder(ctx, c, nurse, s.ID, "Cetirizine", "cetirizine", now, true); err != nil {
		return s, err
	}
	if i%3 != 0 {
		return s, nil
	}
	err = c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/students/"+s.ID+"/allergies", nurse,
		readapi.AllergyRequest{EntryID: uuid.NewString(), Allergen: "penicillin",
			AllergenType: "medication", Severity: "life-threatening", Reaction: "anaphylaxis"}, nil)
	if err != nil {
		return s, err
	}
	blocked, err := seedOrder(ctx, c, nurse, s.ID, "Amoxicillin", "amoxicillin", now, false)
	s.Blocked = &blocked
	return s, err
}

// seedOrder orders drug for student, 10 mg by mouth due every minute
// from slotSpan before now to slotSpan after it; withSlots keeps those
// times for the doses to take.
func seedOrder(
	ctx context.Context,
	c *Client,
	nurse, student, drug, ingredient string,
	now time.Time,
	withSlots bool,
) (Order, error) {
	o := Order{ID: uuid.NewString(), Drug: drug, Amount: "10", Unit: "mg", Route: "oral"}
	var times []string
	var slots []time.Time
	for at := now.Add(-slotSpan); !at.After(now.Add(slotSpan)); at = at.Add(time.Minute) {
		times = append(times, at.Format("15:04"))
		slots = append(slots, at)
	}
	if withSlots {
		o.Slots = slots
	}
	err := c.must(ctx, http.StatusCreated, http.MethodPost, "/v1/students/"+student+"/medication-orders", nurse,
		readapi.OrderRequest{OrderID: o.ID, DrugName: drug, Ingredients: []string{ingredient},
			Strength: "10 mg", DoseAmount: o.Amount, DoseUnit: o.Unit, Route: o.Route,
			Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed, Times: times, TimeZone: "UTC"},
			StartOn:  now.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: now.AddDate(0, 0, 10).Format(time.DateOnly),
			Prescriber: domain.Prescriber{Name: "Dr. L. Reyes"}, ConsentOn: now.AddDate(0, 0, -2).Format(time.DateOnly),
		}, nil)
	return o, err
}
