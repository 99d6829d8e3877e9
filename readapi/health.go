package readapi

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"

	"github.com/labstack/echo/v4"
)

type healthStatus struct {
	Status string `json:"status"`
}

// healthz answers 200 while the process is up.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, healthStatus{Status: "ok"})
}

type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
	// Details say what fails, for the checks whose error is a
	// CheckFailure.
	Details map[string]string `json:"details,omitempty"`
}

// CheckFailure is the error of a check that says, in /readyz's answer,
// what fails. /readyz is public: Detail names things by identifiers,
// positions and kinds of error only, never data or secrets.
type CheckFailure struct {
	Detail string
}

func (f CheckFailure) Error() string { return f.Detail }

// readyz runs every check at once and answers 200 when all pass, 503
// naming the failing ones otherwise. Check errors are reduced to a fixed
// word, and the detail of a CheckFailure; other details go to the log.
func (s *Server) readyz(c echo.Context) error {
	out := readiness{Status: "ready", Checks: map[string]string{}}
	for name, err := range s.runChecks(c.Request().Context()) {
		out.Checks[name] = "ok"
		if err == nil {
			continue
		}
		out.Checks[name] = "failing"
		out.Status = "not ready"
		s.cfg.Logger.Warn().Str("check", name).Err(err).Msg("readiness_check_failed")
		var failure CheckFailure
		if errors.As(err, &failure) {
			if out.Details == nil {
				out.Details = map[string]string{}
			}
			out.Details[name] = failure.Detail
		}
	}
	status := http.StatusOK
	if out.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, out)
}

// runChecks runs every check at once, within CheckTimeout, and returns
// each one's error by name: nil for a check that passed.
func (s *Server) runChecks(ctx context.Context) map[string]error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()

	out := make(map[string]error, len(s.cfg.Checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range sortedNames(s.cfg.Checks) {
		check := s.cfg.Checks[name]
		wg.Go(func() {
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			out[name] = err
		})
	}
	wg.Wait()
	return out
}

func sortedNames(m map[string]Check) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
