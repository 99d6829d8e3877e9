package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// Auditor records every access to health information, every refused
// attempt and every disclosure outside the system, as events in the log.
type Auditor struct {
	store Store
	now   func() time.Time
}

// NewAuditor returns an Auditor appending to store.
func NewAuditor(store Store, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	return &Auditor{store: store, now: now}
}

// Access is one read of health information about to be answered.
type Access struct {
	Actor      auth.Principal
	StudentIDs []string
	What       string
	Purpose    string
	BreakGlass bool
	GrantID    string
}

// Accessed records an access before its response leaves. An error means
// the access could not be recorded: the caller must not send the health
// information (fail closed).
func (a *Auditor) Accessed(ctx context.Context, meta Meta, in Access) (Result, error) {
	id := uuid.NewString()
	meta.ActorID, meta.BreakGlass, meta.IdempotencyKey = in.Actor.UserID, in.BreakGlass, ""
	return a.record(ctx, id, meta, domain.PHIAccessed{
		AccessID: id, ActorID: in.Actor.UserID, ActorRole: firstRole(in.Actor), StudentIDs: in.StudentIDs,
		What: in.What, Purpose: in.Purpose, BreakGlass: in.BreakGlass, GrantID: in.GrantID,
		At: a.now().UTC(),
	})
}

// record appends e as the first and only event of access stream id.
// The stream is new (its ID was drawn for this access), so there is no
// history to read first: one append, with "no stream yet" expected, is
// all an access costs, and concurrent accesses share the log's commits.
func (a *Auditor) record(ctx context.Context, id string, meta Meta, e domain.Event) (Result, error) {
	stream := domain.AccessStream(id)
	data, err := encode(stream, meta, []domain.Event{e})
	if err != nil {
		return Result{}, err
	}
	res, err := a.store.Append(ctx, stream, eventstore.NoStream, data...)
	if err != nil {
		return Result{}, err
	}
	return Result{Stream: stream, Revision: res.Revision, Position: res.Position, Events: []domain.Event{e}}, nil
}

// Refused records an attempt to read a student's health information that
// was refused.
func (a *Auditor) Refused(ctx context.Context, meta Meta, actor auth.Principal, studentID, what, reason string) error {
	id := uuid.NewString()
	meta.ActorID, meta.IdempotencyKey = actor.UserID, ""
	_, err := a.record(ctx, id, meta, domain.PHIAccessRefused{
		AccessID: id, ActorID: actor.UserID, ActorRole: firstRole(actor), StudentID: studentID,
		What: what, Reason: reason, At: a.now().UTC(),
	})
	return err
}

// RefusedAtSchool records a refused attempt to read a list of a school's
// students' health information (its doses due, its active alerts).
func (a *Auditor) RefusedAtSchool(ctx context.Context, meta Meta, actor auth.Principal, schoolID, what, reason string) error {
	id := uuid.NewString()
	meta.ActorID, meta.IdempotencyKey = actor.UserID, ""
	if meta.SchoolID == "" {
		meta.SchoolID = schoolID
	}
	_, err := a.record(ctx, id, meta, domain.PHIAccessRefused{
		AccessID: id, ActorID: actor.UserID, ActorRole: firstRole(actor), SchoolID: schoolID,
		What: what, Reason: reason, At: a.now().UTC(),
	})
	return err
}

func firstRole(p auth.Principal) domain.Role {
	if len(p.Roles) == 0 {
		return ""
	}
	return p.Roles[0]
}
