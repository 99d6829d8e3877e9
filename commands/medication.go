package commands

import (
	"context"
	"slices"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// Administration is a dose a nurse says was given, with the second
// nurse's credentials when the order needs a witness, and the count of
// what remains when the medication is a controlled substance.
type Administration struct {
	Command domain.AdministerMedication
	// Witness, when set, is checked with its own credentials; the command's
	// WitnessID and WitnessVerified are filled from that check.
	Witness *Witness
	// RemainingCounted is the count-back of a controlled substance after
	// the dose, required when the order is one; ignored otherwise.
	RemainingCounted *int
}

// Administer decides a dose from everything on the student's chart. A
// dose that passes every check is recorded (MedicationAdministered),
// followed, for a controlled substance, by its count-back on the school's
// stock; one that fails any check is recorded as blocked
// (MedicationAdministrationBlocked) and the *domain.Refusal naming every
// failed check is returned.
//
// Invalid input is refused with nothing recorded, and it is all checked
// before the witness's credentials, so that the answer to a malformed
// request says nothing of them: the command's fields, the witness's, and
// for a controlled substance the count-back (required, and a dose the
// stock's unit can count).
func (c *Clinic) Administer(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	in Administration,
) (Result, error) {
	cmd := in.Command
	cmd.NurseID = actor.UserID
	cmd.NurseRole = administeringRole(actor, cmd.Override != nil, c.policy)
	witness := witnessCheck{accounts: c.accounts, meta: meta, witness: in.Witness}
	var count *plannedCountBack
	res, err := c.chart(ctx, actor, meta, cmd.NurseRole, studentID,
		func(s *domain.Student, now time.Time) ([]domain.Event, error) {
			count = nil
			if err := domain.ValidateAdministration(cmd); err != nil {
				return nil, err
			}
			if err := witness.validate(); err != nil {
				return nil, err
			}
			planned, err := c.planCountBack(ctx, s, cmd, in.RemainingCounted)
			if err != nil {
				return nil, err
			}
			decided := cmd
			if err := witness.verify(ctx, &decided); err != nil {
				return nil, err
			}
			events, refusal := s.Medications.Administer(decided, domain.AdministrationContext{
				StudentID: s.ID, Enrolled: s.Enrolled(), Allergies: s.ActiveAllergies(), Now: now,
			}, c.policy)
			if refusal != nil {
				return events, refusal
			}
			count = planned
			return events, nil
		})
	if res.Repeated {
		return res, repeatedRefusal(res.Events)
	}
	if err != nil || count == nil {
		return res, err
	}
	counted, err := c.countBack(ctx, meta, *count)
	res.Recorded = append(res.Recorded, counted.Recorded...)
	res.Position = max(res.Position, counted.Position)
	return res, err
}

// administeringRole is the role a dose is given under: the first of
// actor's roles that writes clinical records or, for a dose that
// overrides an allergy warning, the first of those that policy lets
// override one.
func administeringRole(actor auth.Principal, overrides bool, policy domain.MedicationPolicy) domain.Role {
	if overrides {
		for _, r := range actor.Roles {
			if auth.Can(r, auth.WriteClinical) && slices.Contains(policy.AllergyOverrideRoles, r) {
				return r
			}
		}
	}
	return actor.RoleFor(auth.WriteClinical)
}

// witnessCheck verifies a witness's credentials once, however often the
// command decides again after losing a race for its stream.
type witnessCheck struct {
	accounts *Accounts
	meta     Meta     // the request's, recorded with the witness's confirmation
	witness  *Witness // nil when none was given
	checked  bool
	id       string
	ok       bool
}

// validate refuses a witness given without an email address or a
// password.
func (w *witnessCheck) validate() error {
	if w.witness == nil {
		return nil
	}
	return checkWitness(*w.witness)
}

// verify fills cmd's witness from the witness's credentials, when one was
// given.
func (w *witnessCheck) verify(ctx context.Context, cmd *domain.AdministerMedication) error {
	if w.witness == nil {
		return nil
	}
	if !w.checked {
		id, ok, err := w.accounts.ConfirmWitness(ctx, w.meta, *w.witness)
		if err != nil {
			return err
		}
		w.checked, w.id, w.ok = true, id, ok
	}
	cmd.WitnessID, cmd.WitnessVerified = w.id, w.ok
	return nil
}

// checkWitness refuses, naming each, a witness without an email address
// or a password.
func checkWitness(w Witness) error {
	var errs domain.Errors
	if w.Email == "" {
		errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: "witness.email",
			Message: "is required"})
	}
	if w.Password == "" {
		errs = append(errs, &domain.Error{Code: domain.CodeInvalid, Field: "witness.password",
			Message: "is required"})
	}
	if errs != nil {
		return errs
	}
	return nil
}

// plannedCountBack is the count-back of a controlled dose, checked against
// the school's stock before the dose is recorded.
type plannedCountBack struct {
	school string
	cmd    domain.CountBack
}

// planCountBack returns the count-back the dose cmd needs on s's chart:
// nil for an order that is not a controlled substance (or not on the
// chart, which the dose's checks refuse). It refuses a missing
// remaining_counted, and a count-back the stock would refuse, such as a
// dose its unit cannot count.
func (c *Clinic) planCountBack(
	ctx context.Context,
	s *domain.Student,
	cmd domain.AdministerMedication,
	remaining *int,
) (*plannedCountBack, error) {
	order, ok := s.Medications.Order(cmd.OrderID)
	if !ok || order.ControlledSchedule == "" {
		return nil, nil
	}
	if remaining == nil {
		return nil, invalid("remaining_counted",
			"is required for a controlled substance: count what remains after the dose")
	}

	plan := &plannedCountBack{school: s.SchoolID, cmd: domain.CountBack{
		DrugName: order.DrugName, AttemptID: cmd.AttemptID,
		Dose:             domain.Dose{Amount: order.DoseAmount, Unit: order.DoseUnit, Strength: order.Strength},
		RemainingCounted: *remaining, By: cmd.NurseID, At: cmd.GivenAt,
	}}
	stock, err := c.stock(ctx, plan.school)
	if err != nil {
		return nil, err
	}
	if _, err := stock.RecordCountBack(plan.cmd); err != nil {
		return nil, err
	}
	return plan, nil
}

// countBack records the count of a controlled substance after a dose, and
// a discrepancy when it is not what the stock should hold. Its events
// name the school of the student's chart.
//
// NOTE: the dose and the count are two appends to two streams; a failure
// between them leaves the dose recorded and the count to be taken at the
// next shift count, which records any discrepancy.
func (c *Clinic) countBack(ctx context.Context, meta Meta, plan plannedCountBack) (Result, error) {
	meta.SchoolID = plan.school
	return c.onStock(ctx, &meta, plan.school, func(stock *domain.ControlledStock) ([]domain.Event, error) {
		return stock.RecordCountBack(plan.cmd)
	})
}

// stock returns a school's controlled stock as its stream holds it now.
func (c *Clinic) stock(ctx context.Context, school string) (*domain.ControlledStock, error) {
	h, err := load(ctx, c.store, domain.ControlledStream(school))
	if err != nil {
		return nil, err
	}
	return foldStock(h.events)
}

func foldStock(history []domain.Event) (*domain.ControlledStock, error) {
	if len(history) == 0 {
		return &domain.ControlledStock{}, nil
	}
	return domain.FoldControlledStock(history)
}

// onStock applies change to a school's controlled stock.
func (c *Clinic) onStock(
	ctx context.Context,
	meta *Meta,
	school string,
	change func(stock *domain.ControlledStock) ([]domain.Event, error),
) (Result, error) {
	return execute(ctx, c.store, domain.ControlledStream(school), meta,
		func(history []domain.Event) ([]domain.Event, error) {
			stock, err := foldStock(history)
			if err != nil {
				return nil, err
			}
			return change(stock)
		})
}

// DoseNotGiven records a scheduled dose the student refused, that was
// missed, or that the nurse held for a clinical reason.
func (c *Clinic) DoseNotGiven(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	kind domain.AdministrationKind,
	cmd domain.DoseNotGiven,
) (Result, error) {
	cmd.NurseID = actor.UserID
	return c.Chart(ctx, actor, meta, studentID, func(s *domain.Student, now time.Time) ([]domain.Event, error) {
		if cmd.At.IsZero() {
			cmd.At = now
		}
		switch kind {
		case domain.AdministrationRefused:
			return s.Medications.RecordRefusal(cmd)
		case domain.AdministrationMissed:
			return s.Medications.RecordMissed(cmd)
		case domain.AdministrationHeld:
			return s.Medications.RecordHeld(cmd)
		}
		return nil, invalid("outcome", "must be refused, missed or held")
	})
}

// StockReceipt is controlled medication received into a school's stock,
// counted with a witness who confirms with their own credentials.
type StockReceipt struct {
	DrugName string
	OrderID  string // optional: the order it was supplied for
	Quantity int
	Unit     string // one of domain.StockUnits
	Witness  Witness
}

// ReceiveStock records a receipt of a controlled substance at a school
// of the caller's.
func (c *Clinic) ReceiveStock(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	school string,
	in StockReceipt,
) (Result, error) {
	cmd := domain.ReceiveStock{DrugName: in.DrugName, OrderID: in.OrderID, Quantity: in.Quantity,
		Unit: in.Unit, ReceivedBy: actor.UserID, At: c.now().UTC()}
	return c.witnessed(ctx, actor, meta, school, in.Witness, domain.ValidateReceipt(cmd),
		func(stock *domain.ControlledStock, witness string) ([]domain.Event, error) {
			cmd.WitnessID = witness
			return stock.Receive(cmd)
		})
}

// StockCount is the count of a controlled substance at a change of shift,
// made with a witness who confirms with their own credentials.
type StockCount struct {
	DrugName string
	Counted  int
	Witness  Witness
}

// CountStock records a shift count of a controlled substance at a school
// of the caller's; a count that differs from the stock expected also
// records a discrepancy.
func (c *Clinic) CountStock(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	school string,
	in StockCount,
) (Result, error) {
	cmd := domain.ShiftCount{DrugName: in.DrugName, Counted: in.Counted, By: actor.UserID, At: c.now().UTC()}
	return c.witnessed(ctx, actor, meta, school, in.Witness, domain.ValidateShiftCount(cmd),
		func(stock *domain.ControlledStock, witness string) ([]domain.Event, error) {
			cmd.WitnessID = witness
			return stock.RecordShiftCount(cmd)
		})
}

// StockDiscrepancy is a discrepancy of a controlled substance found
// outside a count, reported with a witness who confirms with their own
// credentials.
type StockDiscrepancy struct {
	DrugName string
	Counted  int
	Reason   string
	Witness  Witness
}

// ReportDiscrepancy records a discrepancy of a controlled substance at a
// school of the caller's, as an incident.
func (c *Clinic) ReportDiscrepancy(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	school string,
	in StockDiscrepancy,
) (Result, error) {
	cmd := domain.ReportDiscrepancy{DrugName: in.DrugName, Counted: in.Counted, Reason: in.Reason,
		By: actor.UserID, At: c.now().UTC()}
	return c.witnessed(ctx, actor, meta, school, in.Witness, domain.ValidateDiscrepancy(cmd),
		func(stock *domain.ControlledStock, witness string) ([]domain.Event, error) {
			cmd.WitnessID = witness
			return stock.ReportDiscrepancy(cmd)
		})
}

// witnessed applies a change to a school's controlled stock, made with a
// witness, if actor may write clinical records at the school. The
// command's own fields (refused, the refusal of its validation) and the
// witness's are refused first, and only then are the witness's
// credentials checked, so that the answer to a malformed request says
// nothing of them.
func (c *Clinic) witnessed(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	school string,
	w Witness,
	refused error,
	change func(stock *domain.ControlledStock, witness string) ([]domain.Event, error),
) (Result, error) {
	if !actor.Can(auth.WriteClinical) || !actor.AtSchool(school) {
		return Result{}, forbidden("the school is not one of yours")
	}
	if refused != nil {
		return Result{}, refused
	}
	if err := checkWitness(w); err != nil {
		return Result{}, err
	}

	witness, ok, err := c.accounts.ConfirmWitness(ctx, meta, w)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, refuseWitness()
	}
	meta.SchoolID = school
	meta.ActorRole = string(actor.RoleFor(auth.WriteClinical))
	return c.onStock(ctx, &meta, school, func(stock *domain.ControlledStock) ([]domain.Event, error) {
		return change(stock, witness)
	})
}

func refuseWitness() error {
	return domain.Errors{{Code: domain.CodeInvalid, Field: "witness",
		Message: "must be another active nurse, confirmed by their own credentials"}}
}

// repeatedRefusal answers a retried administration as the first try was
// answered: a blocked attempt is refused again with the same checks.
func repeatedRefusal(events []domain.Event) error {
	for _, e := range events {
		if b, ok := e.(domain.MedicationAdministrationBlocked); ok {
			return &domain.Refusal{Checks: b.Failed}
		}
	}
	return nil
}
