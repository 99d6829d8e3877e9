package readapi

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
)

// Check is one readiness check: nil when the dependency it names is usable.
type Check func(ctx context.Context) error

// Config sets up a Server. Zero durations and sizes take their defaults.
type Config struct {
	// Routes are the application's endpoints. Each is under /v1, has an
	// Access, and is unique by method and path; New refuses any other.
	Routes []Route
	// Authenticate says who a request comes from, from its bearer token.
	// It is called for every route that is not public. An error is
	// answered 401, unless it is a *Problem or a context error, which is
	// answered as itself. Its error is logged, so it never holds the
	// token. It may be nil only when every route is public.
	Authenticate func(c echo.Context) (auth.Principal, error)
	// AllowedOrigins are the web origins ("https://nurse.example.org")
	// allowed to call the API from a browser. Empty: no CORS.
	AllowedOrigins []string
	// MaxBodyBytes is the largest request body accepted; default 1 MiB.
	MaxBodyBytes int64
	// ReadTimeout, WriteTimeout and IdleTimeout bound a connection
	// (defaults 10s, 30s, 120s); headers must arrive within 5s or
	// ReadTimeout, whichever is shorter.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// RequestTimeout ends a request's context (default 15s). It is shorter
	// than WriteTimeout, so that a late request still gets its 503.
	RequestTimeout time.Duration
	// TLSCert and TLSKey are PEM files. When both are set, Serve uses TLS
	// and responses carry Strict-Transport-Security.
	TLSCert string
	TLSKey  string
	// Metrics is where the server registers its metrics and which GET
	// /metrics serves. Nil: a new registry.
	Metrics *prometheus.Registry
	// Checks are run by GET /readyz, by name, each within CheckTimeout.
	Checks       map[string]Check
	CheckTimeout time.Duration // default 2s
	Logger       zerolog.Logger
	// Auditor, when set, records in the log every request refused on a
	// route that carries PHI because the caller's roles do not grant its
	// capability. The service sets it; without it such refusals are only
	// logged.
	Auditor *commands.Auditor
}

// withDefaults returns c with every zero duration and size set.
func (c Config) withDefaults() Config {
	setDefault(&c.MaxBodyBytes, 1<<20)
	setDefault(&c.ReadTimeout, 10*time.Second)
	setDefault(&c.WriteTimeout, 30*time.Second)
	setDefault(&c.IdleTimeout, 120*time.Second)
	setDefault(&c.RequestTimeout, 15*time.Second)
	setDefault(&c.CheckTimeout, 2*time.Second)
	return c
}

func setDefault[T int64 | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// Validate reports every setting of c that New would refuse, after
// defaults, joined into one error; nil when there is none.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	durations := []struct {
		name string
		v    time.Duration
	}{
		{"read timeout", c.ReadTimeout}, {"write timeout", c.WriteTimeout},
		{"idle timeout", c.IdleTimeout}, {"request timeout", c.RequestTimeout},
		{"check timeout", c.CheckTimeout},
	}
	for _, d := range durations {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative", d.name))
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("max body bytes is negative"))
	}
	if c.RequestTimeout >= c.WriteTimeout {
		errs = append(errs, errors.New("request timeout must be shorter than write timeout"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls cert and key must be set together"))
	}
	for _, o := range c.AllowedOrigins {
		if err := validateOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, validateRoutes(c.Routes, c.Authenticate != nil)...)
	return errors.Join(errs...)
}

// tls reports whether Serve uses TLS.
func (c Config) tls() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Server is the HTTP API.
type Server struct {
	echo     *echo.Echo
	cfg      Config
	registry *prometheus.Registry
	metrics  *httpMetrics
	// routes are every registered route, in order of registration;
	// patterns are their paths, the only values of the route label.
	routes   []Route
	patterns map[string]bool
	openAPI  []byte
}

// New builds the middleware and registers the built-in routes (health,
// readiness, metrics, the OpenAPI document) and cfg.Routes. It returns
// an error when cfg does not validate.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("readapi config: %w", err)
	}
	cfg = cfg.withDefaults()
	s := &Server{
		echo:     echo.New(),
		cfg:      cfg,
		registry: cfg.Metrics,
		patterns: map[string]bool{},
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	m, err := newHTTPMetrics(s.registry)
	if err != nil {
		return nil, fmt.Errorf("readapi metrics: %w", err)
	}
	s.metrics = m

	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.HTTPErrorHandler = s.handleError
	s.use()
	if err := s.register(); err != nil {
		return nil, fmt.Errorf("readapi routes: %w", err)
	}
	return s, nil
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Routes returns every registered route, the built-in ones included.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// Registry returns the Prometheus registry that GET /metrics serves, for
// other packages to register their metrics in.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// shutdownGrace is how long requests in flight may take to finish once
// Serve's context ends.
const shutdownGrace = 10 * time.Second

// Serve answers on addr until ctx ends, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds.
func (s *Server) Serve(ctx context.Context, addr string) error {
	srv, err := s.httpServer()
	if err != nil {
		return err
	}
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}

	errc := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			errc <- srv.ServeTLS(ln, "", "")
			return
		}
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// httpServer returns the http.Server that Serve runs, with its timeouts
// and, when configured, its TLS certificate loaded.
func (s *Server) httpServer() (*http.Server, error) {
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: min(5*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(serverLog{s.cfg.Logger}, "", 0),
	}
	if !s.cfg.tls() {
		return srv, nil
	}
	cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load tls key pair: %w", err)
	}
	srv.TLSConfig = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	return srv, nil
}

// serverLog turns the http.Server's own messages (failed TLS handshakes,
// malformed requests) into log lines with a fixed message.
type serverLog struct{ log zerolog.Logger }

func (w serverLog) Write(p []byte) (int, error) {
	w.log.Warn().Str("error", strings.TrimSpace(string(p))).Msg("http_server_error")
	return len(p), nil
}
