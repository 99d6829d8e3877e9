package readapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// commandProblem maps an error of a command to its problem, for
// problemOf: a refusal by the medication rules (422 naming each failed
// check), the domain's refusals (400 naming each invalid field, 403, 404,
// 409, 422), and the commands' sentinels. It reports false for any other
// error.
func commandProblem(err error) (Problem, bool) {
	var refusal *domain.Refusal
	switch {
	case errors.As(err, &refusal):
		return medicationRefusal(refusal).problem(), true
	case errors.Is(err, commands.ErrLoginFailed):
		return *Unauthenticated("the address, password or code is wrong, " +
			"or the account is locked or deactivated"), true
	case errors.Is(err, commands.ErrSessionEnded):
		return *Unauthenticated("the refresh token is not valid, or its session has ended"), true
	case errors.Is(err, commands.ErrRateLimited):
		return *RateLimited(time.Minute), true
	case errors.Is(err, commands.ErrNotFound):
		return *NotFound("no such resource, or not one you may see"), true
	case errors.Is(err, commands.ErrIdempotencyKeyReused):
		return *newProblem(http.StatusUnprocessableEntity, TypeIdempotencyKeyReused,
			"the Idempotency-Key was sent before by another caller or with another request; "+
				"nothing was done: send this request under a new key"), true
	}
	if refused := domain.ErrorsOf(err); len(refused) > 0 {
		return domainProblem(refused), true
	}
	return Problem{}, false
}

// medicationRefusal names every check that refused a dose, and the entry
// (an allergy, an earlier dose) behind each; for an allergy its allergen
// and severity too: the nurse at the student's side needs them.
func medicationRefusal(r *domain.Refusal) RuleRefusedError {
	out := RuleRefusedError{}
	for _, f := range r.Checks {
		reason := f.Reason
		if f.EntryID != "" {
			reason += " (entry " + f.EntryID + ")"
		}
		out.Checks = append(out.Checks, FailedCheck{Check: f.Check, Reason: reason,
			EntryID: f.EntryID, Allergen: f.Allergen, Severity: f.Severity, Overridable: f.Overridable})
	}
	return out
}

// domainProblem answers the domain's refusals of a command: the first
// refusal for scope (403), of something missing (404) or of a conflict
// (409) decides alone; otherwise every invalid field is named (400), or,
// when none is, every rule that refused (422).
func domainProblem(refused []*domain.Error) Problem {
	var v ValidationError
	var rules RuleRefusedError
	for _, e := range refused {
		switch e.Code {
		case domain.CodeForbidden:
			return *Forbidden(e.Message)
		case domain.CodeNotFound:
			return *NotFound(e.Message)
		case domain.CodeConflict:
			return *Conflict(joinField(e.Field, e.Message))
		case domain.CodeSessionEnded, domain.CodeRefreshReuse:
			return *newProblem(http.StatusUnauthorized, TypeUnauthenticated, e.Message)
		case domain.CodeRule, domain.CodeLocked:
			rules.Checks = append(rules.Checks, FailedCheck{Check: orName(e.Field, e.Code), Reason: e.Message})
		default:
			v.Add(orName(e.Field, "body"), e.Message)
		}
	}
	if len(v.Fields) > 0 {
		return v.problem()
	}
	return rules.problem()
}

func joinField(field, message string) string {
	if field == "" {
		return message
	}
	return field + " " + message
}

func orName(field, fallback string) string {
	if field == "" {
		return fallback
	}
	return field
}
