package readapi

import (
	"errors"
	"net/http"

	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
)

// fromCommand turns a command's refusal into the problem the client sees:
// each invalid field named (400), a conflict (409), a refusal for scope
// (403), something missing (404), a rule (422) or an idempotency key used
// for another request (422). Other errors pass through to the error
// mapper.
func fromCommand(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, commands.ErrNotFound) {
		return NotFound("no such resource, or not one you may see")
	}
	if errors.Is(err, commands.ErrIdempotencyKeyReused) {
		return newProblem(http.StatusUnprocessableEntity, TypeIdempotencyKeyReused,
			"the Idempotency-Key was sent before by another caller or with another request; "+
				"nothing was done: send this request under a new key")
	}
	errs := domain.ErrorsOf(err)
	if len(errs) == 0 {
		return err
	}
	var v ValidationError
	var rules RuleRefusedError
	for _, e := range errs {
		switch e.Code {
		case domain.CodeForbidden:
			return Forbidden(e.Message)
		case domain.CodeNotFound:
			return NotFound(e.Message)
		case domain.CodeConflict:
			if e.Field != "" {
				return Conflict(e.Field + " " + e.Message)
			}
			return Conflict(e.Message)
		case domain.CodeRule, domain.CodeLocked:
			rules.Checks = append(rules.Checks, FailedCheck{Check: orName(e.Field, e.Code), Reason: e.Message})
		default:
			v.Add(orName(e.Field, "body"), e.Message)
		}
	}
	if len(v.Fields) > 0 {
		return v
	}
	return rules
}

func orName(field, fallback string) string {
	if field == "" {
		return fallback
	}
	return field
}
