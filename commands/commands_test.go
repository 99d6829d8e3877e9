package commands_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
	"github.com/whitecross/whitecross/internal/pgtest"
)

const password = "Correct-Horse-Battery-9"

var sysadmin = auth.Principal{UserID: uuid.NewString(), Roles: []domain.Role{domain.RoleSysadmin}}

func newAccounts(t *testing.T) (*commands.Accounts, eventstore.Store) {
	t.Helper()
	return newAccountsWith(t, commands.Config{})
}

// newAccountsWith returns account services with cfg over a log of a
// fresh database.
func newAccountsWith(t *testing.T, cfg commands.Config) (*commands.Accounts, eventstore.Store) {
	t.Helper()
	l := newLog(t)
	return accountsOver(t, l, cfg), l
}

func newLog(t *testing.T) eventstore.Store {
	t.Helper()
	db := pgtest.New(t)
	l := postgres.New(db.AppPool(t), postgres.Config{})
	t.Cleanup(func() { l.Close() })
	return l
}

// accountsOver returns account services with cfg over store.
func accountsOver(t *testing.T, store commands.Store, cfg commands.Config) *commands.Accounts {
	t.Helper()
	key, err := auth.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(key, auth.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := commands.NewAccounts(store, tokens, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func streamLength(t *testing.T, l eventstore.Store, stream string) int {
	t.Helper()
	evs, err := l.ReadStream(t.Context(), stream, eventstore.ReadOptions{})
	if err != nil {
		t.Fatalf("read %s: %v", stream, err)
	}
	return len(evs)
}

// TestIdempotencyKey sends the same creation twice with one key: the same
// account comes back, marked repeated, and nothing is appended twice.
func TestIdempotencyKey(t *testing.T) {
	a, l := newAccounts(t)
	meta := commands.Meta{IdempotencyKey: "create-admin-1"}
	in := commands.NewAccount{Email: "admin@district.example", DisplayName: "Admin",
		Roles: []domain.Role{domain.RoleSysadmin}, Password: password}
	first, res1, err := a.CreateUser(t.Context(), nil, meta, in)
	if err != nil {
		t.Fatal(err)
	}
	second, res2, err := a.CreateUser(t.Context(), nil, meta, in)
	if err != nil {
		t.Fatal(err)
	}
	if first != second || res1.Position != res2.Position || !res2.Repeated || res1.Repeated {
		t.Fatalf("first %s %+v, retry %s %+v", first, res1, second, res2)
	}
	if n := streamLength(t, l, domain.UserStream(first)); n != 2 {
		t.Errorf("account stream has %d events, want 2 (created, password)", n)
	}
	_, _, err = a.CreateUser(t.Context(), nil, commands.Meta{IdempotencyKey: "another"}, in)
	if domain.ErrorCode(err) != domain.CodeConflict {
		t.Errorf("same address under another key: %v, want a conflict", err)
	}
}

// TestConcurrentChangesAllLand changes one account from many goroutines:
// each loses races for the stream, decides again and lands.
func TestConcurrentChangesAllLand(t *testing.T) {
	a, l := newAccounts(t)
	district, _, err := a.CreateDistrict(t.Context(), sysadmin, commands.Meta{}, "D")
	if err != nil {
		t.Fatal(err)
	}
	var schools []string
	for range 4 {
		s, _, err := a.CreateSchool(t.Context(), sysadmin, commands.Meta{}, district, "S")
		if err != nil {
			t.Fatal(err)
		}
		schools = append(schools, s)
	}
	id, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: "n@district.example", DisplayName: "N", Roles: []domain.Role{domain.RoleNurse},
		Schools: schools[:1], Password: password})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range schools[1:] {
		wg.Go(func() {
			_, err := a.ChangeUser(t.Context(), sysadmin, commands.Meta{}, id,
				func(u *domain.User) ([]domain.Event, error) { return u.AssignSchools([]string{s}) })
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	u, err := a.User(t.Context(), sysadmin, id)
	if err != nil || len(u.Schools) != 4 {
		t.Fatalf("schools after concurrent assignments: %v (%v)", u.Schools, err)
	}
	if n := streamLength(t, l, domain.UserStream(id)); n != 5 {
		t.Errorf("account stream has %d events, want 5 (created, password, three schools)", n)
	}
}

// TestDeactivationEndsSessions deactivates an account with a live session:
// its token stops working at once.
func TestDeactivationEndsSessions(t *testing.T) {
	a, _ := newAccounts(t)
	id, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{
		Email: "co@district.example", DisplayName: "CO",
		Roles: []domain.Role{domain.RoleComplianceOfficer}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	tokens, _, err := a.Login(t.Context(), commands.Meta{}, commands.Credentials{
		Email: "co@district.example", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(t.Context(), tokens.AccessToken); err != nil {
		t.Fatalf("before: %v", err)
	}
	_, err = a.ChangeUser(t.Context(), sysadmin, commands.Meta{}, id,
		func(u *domain.User) ([]domain.Event, error) { return u.Deactivate("left") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(t.Context(), tokens.AccessToken); !errors.Is(err, commands.ErrSessionEnded) {
		t.Errorf("after deactivation: %v, want ErrSessionEnded", err)
	}
	_, _, err = a.Login(t.Context(), commands.Meta{}, commands.Credentials{
		Email: "co@district.example", Password: password})
	if !errors.Is(err, commands.ErrLoginFailed) {
		t.Errorf("login after deactivation: %v", err)
	}
}
