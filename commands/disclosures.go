package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// Disclosure is a disclosure of one student's health information made
// outside the system, as a compliance officer reports it.
type Disclosure struct {
	StudentID string
	Recipient string
	What      string
	Purpose   string
	// At is when it was disclosed, an RFC 3339 time.
	At string
}

// Disclosed records, in a stream of its own, that actor disclosed in's
// student's health information outside the system (kind other), and
// returns the disclosure's ID. It refuses an actor who may not record
// disclosures, an unknown student (ErrNotFound) and each invalid field;
// under an idempotency key a retried request records nothing new.
func (a *Auditor) Disclosed(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	in Disclosure,
) (string, Result, error) {
	if !actor.Can(auth.RecordDisclosures) {
		return "", Result{}, forbidden("your roles do not record disclosures")
	}
	if !domain.ValidID(in.StudentID) {
		return "", Result{}, fmt.Errorf("student: %w", ErrNotFound)
	}
	id := newID(meta, "disclosure")
	events, err := domain.NewDisclosure(domain.RecordDisclosure{
		DisclosureID: id, ActorID: actor.UserID, ActorRole: actor.RoleFor(auth.RecordDisclosures),
		StudentID: in.StudentID, Recipient: in.Recipient, What: in.What, Purpose: in.Purpose,
		At: in.At,
	}, a.now())
	if err != nil {
		return "", Result{}, err
	}
	if err := a.studentExists(ctx, in.StudentID); err != nil {
		return "", Result{}, err
	}
	res, err := execute(ctx, a.store, domain.DisclosureStream(id), &meta, onlyOnce(events))
	return id, res, err
}

// studentExists returns ErrNotFound unless the log holds id's chart.
func (a *Auditor) studentExists(ctx context.Context, id string) error {
	stream := domain.StudentStream(id)
	_, err := a.store.ReadStream(ctx, stream, eventstore.ReadOptions{Limit: 1})
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return fmt.Errorf("student %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", stream, err)
	}
	return nil
}
