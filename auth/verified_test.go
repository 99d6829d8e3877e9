package auth_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/whitecross/whitecross/auth"
)

// TestVerifyAgain verifies one token many times, as every request of a
// session does: each answer is the first one's, a changed byte is still
// refused, the times are checked on every use, and what a caller does to
// its answer does not reach the next.
func TestVerifyAgain(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	token := mustIssue(t, tokens, nurse)
	first, err := tokens.Verify(token, issuedAt)
	if err != nil {
		t.Fatal(err)
	}

	first.Roles[0], first.Schools = "sysadmin", nil
	again, err := tokens.Verify(token, issuedAt.Add(time.Minute))
	if err != nil || again.UserID != nurse.UserID || again.Roles[0] != nurse.Roles[0] ||
		len(again.Schools) != len(nurse.Schools) {
		t.Errorf("verified again: %+v, %v; want the nurse as issued", again, err)
	}

	tampered := token[:len(token)-2] + flip(token[len(token)-2]) + token[len(token)-1:]
	if _, err := tokens.Verify(tampered, issuedAt); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("a changed signature: %v, want ErrInvalidToken", err)
	}

	late := issuedAt.Add(auth.DefaultTokenTTL + auth.DefaultTokenLeeway + time.Second)
	if _, err := tokens.Verify(token, late); !errors.Is(err, jwt.ErrTokenExpired) {
		t.Errorf("verified again once expired: %v, want ErrTokenExpired", err)
	}
	early := issuedAt.Add(-auth.DefaultTokenLeeway - time.Second)
	if _, err := tokens.Verify(token, early); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("verified again before it was issued: %v, want ErrInvalidToken", err)
	}
}

// TestVerifyManyTokens verifies more tokens than are remembered, each
// twice: every one verifies both times.
func TestVerifyManyTokens(t *testing.T) {
	tokens := mustTokens(t, mustSigningKey(t), auth.TokenConfig{})
	issued := make([]string, 5000)
	for i := range issued {
		issued[i] = mustIssue(t, tokens, nurse)
	}
	for round := range 2 {
		for i, token := range issued {
			if _, err := tokens.Verify(token, issuedAt); err != nil {
				t.Fatalf("round %d, token %d: %v", round, i, err)
			}
		}
	}
}

// flip returns another base64url character than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}
