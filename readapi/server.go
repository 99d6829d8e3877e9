package readapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/rs/zerolog"
)

// Check is one readiness check: nil when the dependency it names is usable.
type Check func(ctx context.Context) error

// Config sets up a Server.
type Config struct {
	// Checks are run by GET /readyz, by name, each within CheckTimeout.
	Checks       map[string]Check
	CheckTimeout time.Duration // default 2s
	Logger       zerolog.Logger
}

// Server is the HTTP API.
type Server struct {
	echo *echo.Echo
	cfg  Config
}

// New builds the routes and middleware.
func New(cfg Config) *Server {
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 2 * time.Second
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = problemHandler(cfg.Logger)
	e.Use(middleware.RequestID())
	e.Use(accessLog(cfg.Logger))
	e.Use(middleware.Recover())

	s := &Server{echo: e, cfg: cfg}
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	return s
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve answers on addr until ctx ends, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds.
func (s *Server) Serve(ctx context.Context, addr string) error {
	errc := make(chan error, 1)
	go func() { errc <- s.echo.Start(addr) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.echo.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
