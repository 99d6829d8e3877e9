package commands

import (
	"context"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// OpenBreakGlass grants actor emergency access to one student outside
// their scope, for duration (the configured default when zero), with a
// reason code and a written reason. The grant is an event; every access
// under it carries the break-glass flag. The student must exist in the
// log (ErrNotFound), and must not be at one of actor's schools, whose
// charts actor reads without a grant (a conflict on student_id).
func (a *Accounts) OpenBreakGlass(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	studentID string,
	reasonCode domain.BreakGlassReason,
	reason string,
	duration time.Duration,
) (*domain.BreakGlassGrant, Result, error) {
	if duration == 0 {
		duration = a.cfg.BreakGlass
	}
	id := newID(meta, "breakglass")
	events, err := domain.NewBreakGlassGrant(domain.OpenBreakGlass{
		GrantID: id, UserID: actor.UserID, StudentID: studentID,
		ReasonCode: reasonCode, Reason: reason, Duration: duration,
	}, a.cfg.Now())
	if err != nil {
		return nil, Result{}, err
	}
	if err := a.outsideScope(ctx, actor, studentID); err != nil {
		return nil, Result{}, err
	}
	meta.BreakGlass = true
	res, err := execute(ctx, a.store, domain.BreakGlassStream(id), &meta, onlyOnce(events))
	if err != nil {
		return nil, res, err
	}
	g, err := domain.FoldBreakGlassGrant(events)
	return g, res, err
}

// outsideScope checks that student exists in the log and is not at one of
// actor's schools.
func (a *Accounts) outsideScope(ctx context.Context, actor auth.Principal, studentID string) error {
	h, err := a.loadExisting(ctx, "student", studentID, domain.StudentStream)
	if err != nil {
		return err
	}
	s, err := domain.FoldStudent(h.events)
	if err != nil {
		return err
	}
	if actor.AtSchool(s.SchoolID) {
		return domain.Errors{{Code: domain.CodeConflict, Field: "student_id",
			Message: "is a student of one of your schools: read the chart without a grant"}}
	}
	return nil
}
