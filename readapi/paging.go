package readapi

import (
	"context"
	"errors"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/projections"
)

// The pages of every list: the limit when none is asked for (or 0), and
// the most one may ask for.
const (
	defaultPage = 50
	maxPage     = 500
)

// pageLimit returns the limit query parameter of a list: defaultPage
// when it is absent or 0, the number when it is 1 to maxPage; any other
// value adds its refusal to v.
func pageLimit(c echo.Context, v *ValidationError) int {
	s := c.QueryParam("limit")
	if s == "" {
		return defaultPage
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 0 || n > maxPage:
		v.Add("limit", "must be a whole number from 1 to 500 (0 or none for 50)")
	case n == 0:
		return defaultPage
	}
	return n
}

// badCursor is the refusal of a cursor that no page of the list gave.
func badCursor() error {
	return ValidationError{Fields: []FieldError{{Field: "cursor", Reason: "is not a cursor of this list"}}}
}

// queryFailed is the answer to a query on the read models that failed:
// 400 naming cursor for a cursor no page gave, the request's own end as
// itself, and 503 for anything else, which is the database's fault.
func queryFailed(err error) error {
	switch {
	case errors.Is(err, projections.ErrInvalidCursor):
		return badCursor()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return Unavailable("the read models cannot be read")
}
