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
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
	// Metrics is where the server registers its metrics, which GET
	// /metrics serves on MetricsAddr. Nil: a new registry.
	Metrics *prometheus.Registry
	// MetricsAddr is where Serve answers GET /metrics, on a listener of
	// its own and in plain HTTP, never on the API's: Prometheus scrapes
	// without a user's token, so this address belongs on the monitoring
	// network. Empty: no metrics listener (MetricsHandler still serves
	// them to whoever mounts it).
	MetricsAddr string
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
// readiness, the OpenAPI document) and cfg.Routes. It returns
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
	if cfg.Auditor != nil {
		m.countUnrecorded(cfg.Auditor)
	}
	if _, err := registerOnce(s.registry, newReadinessCollector(s)); err != nil {
		return nil, fmt.Errorf("readapi metrics: %w", err)
	}

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

// Registry returns the Prometheus registry that the metrics listener
// serves, for other packages to register their metrics in.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// shutdownGrace is how long requests in flight may take to finish once
// Serve's context ends.
const shutdownGrace = 10 * time.Second

// Serve answers on addr, and the metrics on Config.MetricsAddr when set,
// until ctx ends, then shuts down gracefully, letting requests in flight
// finish for up to 10 seconds. It listens on every address before it
// serves any, so that an address in use fails it at once.
func (s *Server) Serve(ctx context.Context, addr string) error {
	api, err := s.httpServer()
	if err != nil {
		return err
	}
	servers := []*http.Server{api}
	addrs := []string{addr}
	if s.cfg.MetricsAddr != "" {
		servers = append(servers, s.metricsServer())
		addrs = append(addrs, s.cfg.MetricsAddr)
	}
	listeners := make([]net.Listener, 0, len(addrs))
	for _, a := range addrs {
		ln, err := new(net.ListenConfig).Listen(ctx, "tcp", a)
		if err != nil {
			for _, open := range listeners {
				open.Close()
			}
			return fmt.Errorf("listen: %w", err)
		}
		listeners = append(listeners, ln)
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- serveOn(srv, listeners[i]) }()
	}
	var failed error
	select {
	case failed = <-errc:
	case <-ctx.Done():
	}
	return errors.Join(failed, shutdown(ctx, servers, errc, failed != nil))
}

// serveOn serves srv on ln, over TLS when srv has a TLS configuration.
func serveOn(srv *http.Server, ln net.Listener) error {
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve: %w", err)
}

// shutdown stops servers, letting requests in flight finish for up to
// shutdownGrace, and collects the end of each serveOn from errc; one has
// ended already when oneEnded.
func shutdown(ctx context.Context, servers []*http.Server, errc <-chan error, oneEnded bool) error {
	grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(grace); err != nil {
			errs = append(errs, fmt.Errorf("shutdown: %w", err))
		}
	}
	running := len(servers)
	if oneEnded {
		running--
	}
	for range running {
		errs = append(errs, <-errc)
	}
	return errors.Join(errs...)
}

// MetricsHandler serves the registry in the Prometheus text format at
// /metrics, and 404 elsewhere: what Serve answers on MetricsAddr.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return mux
}

// metricsServer is the http.Server of the metrics listener.
func (s *Server) metricsServer() *http.Server {
	return &http.Server{
		Handler:           s.MetricsHandler(),
		ReadHeaderTimeout: min(5*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          log.New(serverLog{s.cfg.Logger}, "", 0),
	}
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
