package commands

import (
	"context"
	"errors"
	"sync/atomic"
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
	// unrecorded hears the type of each access event the log refused.
	unrecorded atomic.Pointer[func(eventType string)]
}

// NewAuditor returns an Auditor appending to store.
func NewAuditor(store Store, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	return &Auditor{store: store, now: now}
}

// OnUnrecorded makes f hear the type of every access event
// (domain.PHIAccessed, domain.PHIAccessRefused) that the log could not
// append: for a PHIAccessed one, a read that sent no health information.
// It replaces the f of an earlier call; f must not block.
func (a *Auditor) OnUnrecorded(f func(eventType string)) { a.unrecorded.Store(&f) }

// Access is one read of health information about to be answered.
type Access struct {
	Actor auth.Principal
	// Capability is the one the read was allowed under: the event
	// records the role of Actor's that grants it (auth.Principal.RoleFor).
	Capability auth.Capability
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
	role := roleUnder(in.Actor, in.Capability)
	meta.ActorID, meta.ActorRole = in.Actor.UserID, string(role)
	meta.BreakGlass, meta.IdempotencyKey = in.BreakGlass, ""
	return a.record(ctx, id, meta, domain.PHIAccessed{
		AccessID: id, ActorID: in.Actor.UserID, ActorRole: role, StudentIDs: in.StudentIDs,
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
		// A caller gone away is no failure of the log.
		if f := a.unrecorded.Load(); f != nil && !errors.Is(err, context.Canceled) {
			(*f)(e.EventType())
		}
		return Result{}, err
	}
	return Result{Stream: stream, Revision: res.Revision, Position: res.Position, Events: []domain.Event{e}}, nil
}

// Refusal is an attempt to read health information that was refused: a
// student's (StudentID), a school's lists of students (SchoolID, such as
// its doses due or its active alerts), or, when the request named
// neither, whatever the route What serves.
type Refusal struct {
	Actor auth.Principal
	// Capability is the one the route asks for.
	Capability auth.Capability
	StudentID  string
	SchoolID   string
	What       string
	// Reason is "scope" (the target is outside the caller's schools) or
	// "role" (no role of the caller's grants Capability).
	Reason string
}

// Refused records a refused attempt to read health information.
func (a *Auditor) Refused(ctx context.Context, meta Meta, in Refusal) error {
	id := uuid.NewString()
	role := roleUnder(in.Actor, in.Capability)
	meta.ActorID, meta.ActorRole, meta.IdempotencyKey = in.Actor.UserID, string(role), ""
	if in.SchoolID != "" {
		meta.SchoolID = in.SchoolID
	}
	_, err := a.record(ctx, id, meta, domain.PHIAccessRefused{
		AccessID: id, ActorID: in.Actor.UserID, ActorRole: role, StudentID: in.StudentID,
		SchoolID: in.SchoolID, What: in.What, Reason: in.Reason, At: a.now().UTC(),
	})
	return err
}

// roleUnder returns the role of p's that grants c; for a refusal for want
// of c, which none of p's roles grants, p's first role.
func roleUnder(p auth.Principal, c auth.Capability) domain.Role {
	if role := p.RoleFor(c); role != "" {
		return role
	}
	if len(p.Roles) == 0 {
		return ""
	}
	return p.Roles[0]
}
