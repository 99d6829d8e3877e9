package commands

import (
	"context"
	"fmt"
	"slices"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// CreateDistrict creates a district. Only a system administrator may.
func (a *Accounts) CreateDistrict(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	name string,
) (string, Result, error) {
	if !slices.Contains(actor.Roles, domain.RoleSysadmin) {
		return "", Result{}, forbidden("only a system administrator creates districts")
	}
	id := newID(meta, "district")
	events, err := domain.NewDistrict(domain.CreateDistrict{DistrictID: id, Name: name, CreatedBy: actor.UserID})
	if err != nil {
		return "", Result{}, err
	}
	res, err := execute(ctx, a.store, domain.DistrictStream(id), &meta, onlyOnce(events))
	return id, res, err
}

// CreateSchool creates a school in an existing district: a system
// administrator in any, a district administrator in their own.
func (a *Accounts) CreateSchool(
	ctx context.Context,
	actor auth.Principal,
	meta Meta,
	districtID, name string,
) (string, Result, error) {
	id := newID(meta, "school")
	events, err := domain.NewSchool(domain.CreateSchool{
		SchoolID: id, DistrictID: districtID, Name: name, CreatedBy: actor.UserID,
	})
	if err != nil {
		return "", Result{}, err
	}
	if !slices.Contains(actor.Roles, domain.RoleSysadmin) && actor.District != districtID {
		return "", Result{}, forbidden("you create schools in your own district only")
	}
	if _, err := a.District(ctx, districtID); err != nil {
		return "", Result{}, invalid("district_id", "names no district")
	}
	res, err := execute(ctx, a.store, domain.SchoolStream(id), &meta, onlyOnce(events))
	return id, res, err
}

// onlyOnce appends events to a stream that must not exist yet; a retry of
// the same request finds it made and appends nothing.
func onlyOnce(events []domain.Event) decider {
	return func(history []domain.Event) ([]domain.Event, error) {
		if len(history) > 0 {
			return nil, nil
		}
		return events, nil
	}
}

// District returns a district; ErrNotFound when there is none.
func (a *Accounts) District(ctx context.Context, id string) (*domain.District, error) {
	h, err := a.loadExisting(ctx, "district", id, domain.DistrictStream)
	if err != nil {
		return nil, err
	}
	return domain.FoldDistrict(h.events)
}

// School returns a school; ErrNotFound when there is none.
func (a *Accounts) School(ctx context.Context, id string) (*domain.School, error) {
	return a.loadSchool(ctx, id)
}

func (a *Accounts) loadSchool(ctx context.Context, id string) (*domain.School, error) {
	h, err := a.loadExisting(ctx, "school", id, domain.SchoolStream)
	if err != nil {
		return nil, err
	}
	return domain.FoldSchool(h.events)
}

func (a *Accounts) loadExisting(
	ctx context.Context,
	what, id string,
	stream func(string) string,
) (history, error) {
	if !domain.ValidID(id) {
		return history{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	h, err := load(ctx, a.store, stream(id))
	if err == nil && !h.exists {
		err = fmt.Errorf("%s %s: %w", what, id, ErrNotFound)
	}
	return h, err
}
