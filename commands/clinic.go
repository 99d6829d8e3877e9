package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// Clinic runs the commands on students' charts: enrolment, chart entries,
// corrections, alerts, medication orders and administrations.
type Clinic struct {
	store    Store
	accounts *Accounts
	policy   domain.MedicationPolicy
	now      func() time.Time
}

// ClinicConfig tunes a Clinic. The zero value works.
type ClinicConfig struct {
	// Medication is the policy of the medication rules; each zero field
	// takes the domain's default, and only those: an empty, non-nil
	// AllergyOverrideRoles stays empty, so that nobody overrides.
	Medication domain.MedicationPolicy
	Now        func() time.Time
}

// NewClinic returns the chart services over store; accounts verifies
// witnesses. It refuses a medication policy that does not validate.
func NewClinic(store Store, accounts *Accounts, cfg ClinicConfig) (*Clinic, error) {
	if err := cfg.Medication.Validate(); err != nil {
		return nil, fmt.Errorf("medication policy: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Clinic{store: store, accounts: accounts, policy: cfg.Medication.WithDefaults(), now: cfg.Now}, nil
}

// Policy returns the medication policy c decides doses by, defaults
// filled in.
func (c *Clinic) Policy() domain.MedicationPolicy { return c.policy }

// Enrol opens a student's chart at a school of the caller's; the student
// number is reserved in the district first.
func (c *Clinic) Enrol(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	cmd domain.EnrollStudent,
) (string, Result, error) {
	cmd.StudentID = newID(meta, "student")
	if err := mayRoster(actor, cmd.SchoolID, cmd.DistrictID); err != nil {
		return "", Result{}, err
	}
	events, err := domain.NewStudent(cmd, c.now())
	if err != nil {
		return "", Result{}, err
	}
	school, err := c.accounts.School(ctx, cmd.SchoolID)
	if err != nil || school.DistrictID != cmd.DistrictID {
		return "", Result{}, invalid("school_id", "names no school of the district")
	}
	// Every event of the chart names the student's school.
	meta.SchoolID = cmd.SchoolID
	meta.ActorRole = string(actor.RoleFor(auth.ManageRoster))
	if err := c.keyFree(ctx, domain.StudentStream(cmd.StudentID), meta); err != nil {
		return "", Result{}, err
	}
	_, err = execute(ctx, c.store, domain.StudentNumberStream(cmd.DistrictID, cmd.StudentNumber), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			if len(history) == 0 {
				return []domain.Event{domain.StudentNumberReserved{StudentID: cmd.StudentID}}, nil
			}
			if e, ok := history[0].(domain.StudentNumberReserved); ok && e.StudentID == cmd.StudentID {
				return nil, nil
			}
			return nil, domain.Errors{{Code: domain.CodeConflict, Field: "student_number",
				Message: "is already used in the district"}}
		})
	if err != nil {
		return "", Result{}, err
	}
	res, err := execute(ctx, c.store, domain.StudentStream(cmd.StudentID), &meta, onlyOnce(events))
	return cmd.StudentID, res, err
}

// keyFree refuses, before a command appends to other streams first, an
// idempotency key that stream holds for another request.
func (c *Clinic) keyFree(ctx context.Context, stream string, meta Meta) error {
	if meta.IdempotencyKey == "" {
		return nil
	}
	h, err := load(ctx, c.store, stream)
	if err != nil {
		return err
	}
	_, _, err = repeated(stream, meta, h)
	return err
}

// mayRoster checks that actor manages the roster of a school of a
// district: at the school itself, or as the district's administrator.
func mayRoster(actor auth.Principal, school, district string) error {
	switch {
	case !actor.Can(auth.ManageRoster):
		return forbidden("your roles do not manage the roster")
	case actor.AtSchool(school):
		return nil
	case actor.District != "" && actor.District == district:
		return nil
	}
	return forbidden("the school is not one of yours")
}

// ChartChange is one change to a student's chart, decided by the domain.
type ChartChange func(s *domain.Student, now time.Time) ([]domain.Event, error)

// Chart applies change to a student's chart, if actor may write clinical
// records at the student's school. The events record the actor's role
// that writes clinical records.
func (c *Clinic) Chart(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	change ChartChange,
) (Result, error) {
	return c.chart(ctx, actor, meta, actor.RoleFor(auth.WriteClinical), studentID, change)
}

// chart is Chart under a given role of the actor's.
func (c *Clinic) chart(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	role domain.Role,
	studentID string,
	change ChartChange,
) (Result, error) {
	meta.ActorRole = string(role)
	return c.onStudent(ctx, meta, studentID, func(s *domain.Student) ([]domain.Event, error) {
		if !actor.Can(auth.WriteClinical) || !actor.AtSchool(s.SchoolID) {
			return nil, forbidden("the student is not at one of your schools")
		}
		return change(s, c.now())
	})
}

// Roster applies a roster change (demographics, transfer, withdrawal,
// contacts) to a student, if actor manages the roster of the student's
// school. The events record the actor's role that manages the roster.
func (c *Clinic) Roster(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	change ChartChange,
) (Result, error) {
	meta.ActorRole = string(actor.RoleFor(auth.ManageRoster))
	return c.onStudent(ctx, meta, studentID, func(s *domain.Student) ([]domain.Event, error) {
		if err := mayRoster(actor, s.SchoolID, s.DistrictID); err != nil {
			return nil, err
		}
		return change(s, c.now())
	})
}

func (c *Clinic) onStudent(
	ctx context.Context,
	meta Meta,
	studentID string,
	decide func(s *domain.Student) ([]domain.Event, error),
) (Result, error) {
	if !domain.ValidID(studentID) {
		return Result{}, fmt.Errorf("student: %w", ErrNotFound)
	}
	return executeOn(ctx, c.store, domain.StudentStream(studentID), &meta,
		func(h history) ([]domain.Event, error) {
			if !h.exists {
				return nil, fmt.Errorf("student %s: %w", studentID, ErrNotFound)
			}
			s, err := domain.FoldStudent(h.events)
			if err != nil {
				return nil, err
			}
			// Corrections name the event they correct.
			s.WithEventIDs(h.idStrings())
			// Every event on a chart names the student's school.
			meta.SchoolID = s.SchoolID
			return decide(s)
		})
}

// Student returns a student's chart, if actor may read clinical records at
// the student's school.
//
// TODO: reads of charts are to be recorded as access events, and served
// from read models, with the audited-reads work.
func (c *Clinic) Student(ctx context.Context, actor auth.Principal, id string) (*domain.Student, error) {
	if !domain.ValidID(id) {
		return nil, fmt.Errorf("student: %w", ErrNotFound)
	}
	h, err := load(ctx, c.store, domain.StudentStream(id))
	if err != nil {
		return nil, err
	}
	if !h.exists {
		return nil, fmt.Errorf("student %s: %w", id, ErrNotFound)
	}
	s, err := domain.FoldStudent(h.events)
	if err != nil {
		return nil, err
	}
	// Compliance officers read any chart, for an investigation; nurses
	// those of their schools.
	investigating := actor.Can(auth.ReadClinical) && actor.Can(auth.ReadHistory)
	if !investigating && (!actor.Can(auth.ReadClinical) || !actor.AtSchool(s.SchoolID)) {
		return nil, forbidden("the student is not at one of your schools")
	}
	return s, nil
}

// Transfer moves a student to another school of the same district.
func (c *Clinic) Transfer(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID, toSchool string,
	on domain.Date,
) (Result, error) {
	return c.Roster(ctx, actor, meta, studentID, func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
		school, err := c.accounts.School(ctx, toSchool)
		if err != nil {
			return nil, invalid("to_school_id", "names no school")
		}
		if school.DistrictID != s.DistrictID {
			return nil, invalid("to_school_id", "is a school of another district")
		}
		return s.Transfer(toSchool, on)
	})
}
