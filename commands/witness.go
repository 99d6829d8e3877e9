package commands

import (
	"context"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/domain"
)

// Witness is who a second nurse says they are, with their own credentials,
// to witness a controlled-substance dose or count.
type Witness struct {
	Email    string
	Password string
	TOTP     string
}

// ConfirmWitness checks a witness's own credentials without starting a
// session, and that the witness is an active nurse. It returns the
// witness's account ID and whether every check held. A refusal says
// nothing of which check failed; the log says it: every confirmation is
// an event of the witness's account, WitnessConfirmed or
// WitnessConfirmationFailed with a reason code (never the password), and
// a wrong password or code counts towards the account's lockout as a
// failed login does. A locked account's witness is refused, and a TOTP
// code is accepted once, for a login or a confirmation. Confirmations
// are limited per address (Config.WitnessAttempts): past the limit,
// ErrRateLimited and nothing checked. A witness without an address or a
// password is refused with nothing recorded.
func (a *Accounts) ConfirmWitness(ctx context.Context, meta Meta, w Witness) (string, bool, error) {
	now := a.cfg.Now().UTC()
	email := domain.NormalizeEmail(w.Email)
	if email == "" || w.Password == "" {
		return "", false, nil
	}
	if !a.witnesses.Allow("witness:"+email, now) {
		return "", false, ErrRateLimited
	}
	id, err := a.accountOf(ctx, email)
	if err != nil {
		return "", false, err
	}
	if id == "" {
		auth.VerifyPassword(a.decoy, w.Password)
		failed := domain.WitnessConfirmationFailed{ReasonCode: domain.LoginUnknownAccount, AttemptAt: now}
		return "", false, a.recordUnknown(ctx, meta, email, failed)
	}

	var confirmed bool
	_, err = execute(ctx, a.store, domain.UserStream(id), &meta,
		func(history []domain.Event) ([]domain.Event, error) {
			u, err := domain.FoldUser(history)
			if err != nil {
				return nil, err
			}
			step, totpOK := a.acceptTOTP(u, w.TOTP, now)
			events, outcome := u.ConfirmWitness(now, passwordMatches(u, w.Password), totpOK, a.cfg.Lockout)
			if ok, isOK := events[0].(domain.WitnessConfirmed); isOK && u.TOTPEnrolled() {
				ok.TOTPStep = step
				events[0] = ok
			}
			confirmed = outcome == domain.LoginOK
			return events, nil
		})
	if err != nil {
		return "", false, err
	}
	return id, confirmed, nil
}
