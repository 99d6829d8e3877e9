package commands

import (
	"context"
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
	// the dose; nil when none was given.
	RemainingCounted *int
}

// Administer decides a dose from everything on the student's chart. A
// dose that passes every check is recorded (MedicationAdministered); one
// that fails any check is recorded as blocked
// (MedicationAdministrationBlocked) and the *domain.Refusal naming every
// failed check is returned. Invalid input is refused with nothing
// recorded.
func (c *Clinic) Administer(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	in Administration,
) (Result, error) {
	cmd := in.Command
	cmd.NurseID = actor.UserID
	if len(actor.Roles) > 0 {
		cmd.NurseRole = actor.Roles[0]
	}
	if in.Witness != nil {
		id, ok, err := c.accounts.VerifyWitness(ctx, *in.Witness)
		if err != nil {
			return Result{}, err
		}
		cmd.WitnessID, cmd.WitnessVerified = id, ok
	}
	var order *domain.Order
	var school string
	res, err := c.Chart(ctx, actor, meta, studentID, func(s *domain.Student, now time.Time) ([]domain.Event, error) {
		// Invalid input is refused, with nothing recorded, once the
		// caller is known to be allowed here.
		if err := domain.ValidateAdministration(cmd); err != nil {
			return nil, err
		}
		order, _ = s.Medications.Order(cmd.OrderID)
		school = s.SchoolID
		events, refusal := s.Medications.Administer(cmd, domain.AdministrationContext{
			StudentID: s.ID, Enrolled: s.Enrolled(), Allergies: s.ActiveAllergies(), Now: now,
		}, c.policy)
		if refusal != nil {
			return events, refusal
		}
		return events, nil
	})
	if res.Repeated {
		return res, repeatedRefusal(res.Events)
	}
	if err != nil || order == nil || order.ControlledSchedule == "" || in.RemainingCounted == nil {
		return res, err
	}
	return res, c.countBack(ctx, meta, school, order, cmd, *in.RemainingCounted)
}

// countBack records the count of a controlled substance after a dose, and
// a discrepancy when it is not what the stock should hold.
//
// NOTE: the dose and the count are two appends to two streams; a failure
// between them leaves the dose recorded and the count to be taken at the
// next shift count, which records any discrepancy.
func (c *Clinic) countBack(
	ctx context.Context,
	meta Meta,
	school string,
	order *domain.Order,
	cmd domain.AdministerMedication,
	remaining int,
) error {
	used := 1
	_, err := execute(ctx, c.store, domain.ControlledStream(school), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			stock := &domain.ControlledStock{}
			if len(history) > 0 {
				var err error
				if stock, err = domain.FoldControlledStock(history); err != nil {
					return nil, err
				}
			}
			return stock.RecordCountBack(domain.CountBack{
				DrugName: order.DrugName, AttemptID: cmd.AttemptID, QuantityUsed: used,
				RemainingCounted: remaining, By: cmd.NurseID, At: cmd.GivenAt,
			})
		})
	return err
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

// StockCount is a controlled-substance receipt or shift count at a school,
// made with a witness who confirms with their own credentials.
type StockCount struct {
	// Kind is "receipt" or "shift_count".
	Kind     string
	DrugName string
	OrderID  string // of a receipt, optional
	Quantity int    // received, or counted at the shift change
	Witness  Witness
}

// CountStock records a receipt or a shift count of a controlled substance
// at a school of the caller's; a count that differs from the stock
// expected also records a discrepancy.
func (c *Clinic) CountStock(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	school string,
	in StockCount,
) (Result, error) {
	if !actor.Can(auth.WriteClinical) || !actor.AtSchool(school) {
		return Result{}, forbidden("the school is not one of yours")
	}
	witness, ok, err := c.accounts.VerifyWitness(ctx, in.Witness)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return Result{}, invalid("witness", "must be another active nurse, confirmed by their own credentials")
	}
	meta.SchoolID = school
	now := c.now().UTC()
	return execute(ctx, c.store, domain.ControlledStream(school), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			stock := &domain.ControlledStock{}
			if len(history) > 0 {
				var err error
				if stock, err = domain.FoldControlledStock(history); err != nil {
					return nil, err
				}
			}
			switch in.Kind {
			case "receipt":
				return stock.Receive(domain.ReceiveStock{DrugName: in.DrugName, OrderID: in.OrderID,
					Quantity: in.Quantity, ReceivedBy: actor.UserID, WitnessID: witness, At: now})
			case "shift_count":
				return stock.RecordShiftCount(domain.ShiftCount{DrugName: in.DrugName, Counted: in.Quantity,
					By: actor.UserID, WitnessID: witness, At: now})
			}
			return nil, invalid("kind", "must be receipt or shift_count")
		})
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
