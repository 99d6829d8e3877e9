package commands

import (
	"context"
	"time"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// OpenBreakGlass grants actor emergency access to one student outside
// their scope, for duration (the configured default when zero), with a
// reason code and a written reason. The grant is an event; every access under it carries
// the break-glass flag.
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
	meta.BreakGlass = true
	res, err := execute(ctx, a.store, domain.BreakGlassStream(id), &meta, onlyOnce(events))
	if err != nil {
		return nil, res, err
	}
	g, err := domain.FoldBreakGlassGrant(events)
	return g, res, err
}

// BreakGlassGrants lists every grant, newest first, for review.
//
// TODO: this reads the whole log; serve it from a read model once the
// projections feed one, before logs grow past a few hundred thousand
// events.
func (a *Accounts) BreakGlassGrants(ctx context.Context, all eventstore.Store) ([]*domain.BreakGlassGrant, error) {
	streams := map[string][]domain.Event{}
	var order []string
	for from := uint64(0); ; {
		page, err := all.ReadAll(ctx, from, 5000)
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			if e.Type != (domain.BreakGlassOpened{}).EventType() && e.Type != (domain.BreakGlassClosed{}).EventType() {
				continue
			}
			ev, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
			if err != nil {
				return nil, err
			}
			if _, seen := streams[e.Stream]; !seen {
				order = append(order, e.Stream)
			}
			streams[e.Stream] = append(streams[e.Stream], ev)
		}
		if len(page) < 5000 {
			break
		}
		from = page[len(page)-1].Position + 1
	}
	grants := make([]*domain.BreakGlassGrant, 0, len(order))
	for i := len(order) - 1; i >= 0; i-- {
		g, err := domain.FoldBreakGlassGrant(streams[order[i]])
		if err != nil {
			return nil, err
		}
		grants = append(grants, g)
	}
	return grants, nil
}
