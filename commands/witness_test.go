package commands_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/time/rate"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// TestWitnessFailuresLockTheAccount: wrong witness passwords are failures
// of the witness's account, recorded with their reason and never the
// password, and the fifth locks the account: a locked witness is refused
// even with the right password, and so is a login.
func TestWitnessFailuresLockTheAccount(t *testing.T) {
	a, l := newAccounts(t)
	o := newOrg(t, a)
	id, email := o.nurseAccount(t)
	const wrong = "Not-The-Password-42"
	for i := range 5 {
		_, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, commands.Witness{Email: email, Password: wrong})
		if err != nil || ok {
			t.Fatalf("wrong password %d: ok %v, %v", i, ok, err)
		}
	}
	witness, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, commands.Witness{Email: email, Password: password})
	if err != nil || ok || witness != id {
		t.Fatalf("right password while locked: %s %v %v, want refused", witness, ok, err)
	}
	if _, _, err := a.Login(t.Context(), commands.Meta{}, commands.Credentials{Email: email, Password: password}); !errors.Is(err, commands.ErrLoginFailed) {
		t.Errorf("login while locked by witness failures: %v", err)
	}

	events := streamEvents(t, l, domain.UserStream(id))
	var reasons []domain.LoginOutcome
	for _, e := range events {
		if f, isFailure := e.(domain.WitnessConfirmationFailed); isFailure {
			reasons = append(reasons, f.ReasonCode)
		}
	}
	want := []domain.LoginOutcome{"bad_password", "bad_password", "bad_password", "bad_password",
		"bad_password", "locked"}
	if !slices.Equal(reasons, want) || !slices.Contains(eventTypes(events), "UserLocked") {
		t.Errorf("witness failures %q in %v, want %q and a lock", reasons, eventTypes(events), want)
	}
	raw, err := l.ReadStream(t.Context(), domain.UserStream(id), eventstore.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range raw {
		if bytes.Contains(e.Data, []byte(wrong)) || bytes.Contains(e.Data, []byte(password)) {
			t.Errorf("%s holds a password", e.Type)
		}
	}
}

// TestWitnessOutcomes: who may witness, and what each refusal records.
func TestWitnessOutcomes(t *testing.T) {
	a, l := newAccounts(t)
	o := newOrg(t, a)
	_, nurseEmail := o.nurseAccount(t)
	adminEmail := "admin-" + nurseEmail
	admin, _, err := a.CreateUser(t.Context(), nil, commands.Meta{}, commands.NewAccount{Email: adminEmail,
		DisplayName: "Admin", Roles: roles(domain.RoleSchoolAdmin), Schools: []string{o.s1}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		witness commands.Witness
		ok      bool
		stream  string // where the confirmation is recorded; "" for nowhere
		want    string // the event recorded
	}{
		{"a nurse", commands.Witness{Email: nurseEmail, Password: password}, true, "", ""},
		{"a school administrator", commands.Witness{Email: adminEmail, Password: password}, false,
			domain.UserStream(admin), "not_nurse"},
		{"an unknown address", commands.Witness{Email: "nobody@district.example", Password: password}, false,
			domain.LoginAttemptsStream("nobody@district.example"), "unknown_account"},
		{"no password", commands.Witness{Email: nurseEmail}, false, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, c.witness)
			if err != nil || ok != c.ok {
				t.Fatalf("ok %v, %v; want %v", ok, err, c.ok)
			}
			if c.stream == "" {
				return
			}
			failed, isFailure := lastEvent(t, l, c.stream).(domain.WitnessConfirmationFailed)
			if !isFailure || string(failed.ReasonCode) != c.want {
				t.Errorf("recorded %#v, want a failure %s", failed, c.want)
			}
		})
	}
}

// TestWitnessAttemptsAreLimited: past the limit per address, a witness is
// refused with ErrRateLimited, and nothing is checked or recorded.
func TestWitnessAttemptsAreLimited(t *testing.T) {
	limiter, err := auth.NewLimiter(rate.Every(time.Hour), 2, 100)
	if err != nil {
		t.Fatal(err)
	}
	a, l := newAccountsWith(t, commands.Config{WitnessAttempts: limiter})
	o := newOrg(t, a)
	id, email := o.nurseAccount(t)
	before := len(streamEvents(t, l, domain.UserStream(id)))
	w := commands.Witness{Email: email, Password: "Not-The-Password-42"}
	for range 2 {
		if _, _, err := a.ConfirmWitness(t.Context(), commands.Meta{}, w); err != nil {
			t.Fatal(err)
		}
	}
	w.Password = password
	if _, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, w); !errors.Is(err, commands.ErrRateLimited) || ok {
		t.Fatalf("third attempt within the limit's period: %v %v, want ErrRateLimited", ok, err)
	}
	if n := len(streamEvents(t, l, domain.UserStream(id))) - before; n != 2 {
		t.Errorf("%d events recorded for three attempts, want 2", n)
	}
}

// TestWitnessCodeIsAcceptedOnce: a second-factor code that confirmed a
// witness is not accepted again, for a witness or a login.
func TestWitnessCodeIsAcceptedOnce(t *testing.T) {
	c := newClock()
	a, _ := newAccountsWith(t, commands.Config{Now: c.Now})
	o := newOrg(t, a)
	id, email := o.nurseAccount(t)
	secret, _, err := auth.NewTOTPSecret(email)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		code, err := totp.GenerateCode(secret, c.Now())
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	self := principal(domain.RoleNurse, o.s1)
	self.UserID = id
	if _, err := a.EnrollTOTP(t.Context(), self, commands.Meta{}, secret, code()); err != nil {
		t.Fatal(err)
	}
	c.Add(30 * time.Second)
	first := code()
	w := commands.Witness{Email: email, Password: password, TOTP: first}
	if _, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, w); err != nil || !ok {
		t.Fatalf("the current code: %v %v", ok, err)
	}
	if _, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, w); err != nil || ok {
		t.Errorf("the same code again: %v %v, want refused", ok, err)
	}
	_, _, err = a.Login(t.Context(), commands.Meta{}, commands.Credentials{Email: email, Password: password, TOTP: first})
	if !errors.Is(err, commands.ErrLoginFailed) {
		t.Errorf("a login with the witness's code: %v, want ErrLoginFailed", err)
	}
	c.Add(30 * time.Second)
	w.TOTP = code()
	if _, ok, err := a.ConfirmWitness(t.Context(), commands.Meta{}, w); err != nil || !ok {
		t.Errorf("the next code: %v %v", ok, err)
	}
}
