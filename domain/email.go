package domain

import (
	"crypto/sha256"
	"encoding/hex"
)

// EmailStream is the stream whose first event reserves an email address
// for one account, so that the log itself, not a read model that may lag,
// decides that no two accounts share an address. Its name carries a digest
// of the normalised address, never the address.
func EmailStream(email string) string {
	return "email-" + emailDigest(email)
}

// LoginAttemptsStream holds the failed logins for an address that no
// account holds, so that even those are in the log.
func LoginAttemptsStream(email string) string {
	return "login-" + emailDigest(email)
}

func emailDigest(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return hex.EncodeToString(sum[:])
}

// EmailReserved gives an address to an account. A second reservation of
// the same address is refused by the log (the stream must not exist yet).
type EmailReserved struct {
	UserID string `json:"user_id"`
}

// EventType returns "EmailReserved".
func (EmailReserved) EventType() string { return "EmailReserved" }

// LoginUnknownAccount is the outcome of a login with an address no account
// holds; it is the ReasonCode of the LoginFailed in LoginAttemptsStream.
const LoginUnknownAccount LoginOutcome = "unknown_account"
