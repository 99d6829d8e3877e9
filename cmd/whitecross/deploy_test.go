package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/internal/pgtest"
)

// The files operators load into Prometheus and Grafana.
const (
	alertsFile    = "../../deploy/prometheus/alerts.yml"
	dashboardFile = "../../deploy/grafana/whitecross.json"
)

// alertRules is the part of a Prometheus rules file the tests read.
type alertRules struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			For         string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Title      string
	UID        string
	Templating struct {
		List []struct {
			Name, Type, Query string
		}
	}
	Panels []struct {
		ID         int
		Type       string
		Title      string
		Datasource struct{ Type, UID string }
		Targets    []struct {
			Expr  string
			RefID string `json:"refId"`
		}
	}
}

func readAlerts(t *testing.T) alertRules {
	t.Helper()
	text, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	if err := yaml.Unmarshal(text, &rules); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	return rules
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	text, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(text, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// exported returns the name of every sample the service exposes on
// /metrics, and the series a run of verify writes with --metrics-file:
// what the alerts and the dashboard may use.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	db := pgtest.New(t)
	seedLog(t, db)
	ctx, cancel := context.WithCancel(t.Context())
	addr, metricsAddr, done := startServe(ctx, t, db, io.Discard)
	defer func() { cancel(); <-done }()

	waitFor(t, "http://"+addr+"/healthz")
	// The sealer's state shows once it has tried its lock, and the
	// projections' lag once it is first measured.
	scraped := get(t, "http://"+metricsAddr+"/metrics")
	for deadline := time.Now().Add(20 * time.Second); (!strings.Contains(scraped,
		`whitecross_ledger_sealer_state{state="sealing"} 1`) ||
		!strings.Contains(scraped, "whitecross_projection_lag_seconds{")) &&
		time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		scraped = get(t, "http://"+metricsAddr+"/metrics")
	}
	names := sampleNames(scraped)

	path := filepath.Join(t.TempDir(), "verify.prom")
	if code, out := verifyCLI(t, db, "--metrics-file", path); code != 0 {
		t.Fatalf("verify: exit %d:\n%s", code, out)
	}
	for name := range sampleNames(mustRead(t, path)) {
		names[name] = true
	}
	return names
}

// sampleNames returns the name of every sample in a text exposition.
func sampleNames(text string) map[string]bool {
	names := map[string]bool{}
	lines := bufio.NewScanner(strings.NewReader(text))
	for lines.Scan() {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		names[strings.FieldsFunc(line, func(r rune) bool { return r == '{' || r == ' ' })[0]] = true
	}
	return names
}

var (
	metricName   = regexp.MustCompile(`\bwhitecross_[a-z0-9_]+`)
	typeSelector = regexp.MustCompile(`\btype="([A-Za-z]+)"`)
	promDuration = regexp.MustCompile(`^([0-9]+(ms|[smhdwy]))+$`)
)

// TestAlertsAndDashboardUseExportedMetrics: every metric the alert rules
// and the dashboard's panels name is one the service or verify exports,
// and every event type they select is one the domain defines.
func TestAlertsAndDashboardUseExportedMetrics(t *testing.T) {
	names := exported(t)
	var exprs []string
	for _, g := range readAlerts(t).Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	for _, p := range readDashboard(t).Panels {
		for _, target := range p.Targets {
			exprs = append(exprs, target.Expr)
		}
	}

	types := domain.EventTypes()
	for _, expr := range exprs {
		for _, name := range metricName.FindAllString(expr, -1) {
			if !names[name] {
				t.Errorf("%q names %s, which nothing exports", expr, name)
			}
		}
		for _, m := range typeSelector.FindAllStringSubmatch(expr, -1) {
			if !slices.Contains(types, m[1]) {
				t.Errorf("%q selects events of type %s, which the domain does not define", expr, m[1])
			}
		}
	}
}

// TestAlertRules reads the alert rules as Prometheus would: every rule
// has a name, an expression, a known severity and a summary and
// description, and what operators need alerting on is covered.
func TestAlertRules(t *testing.T) {
	rules := readAlerts(t)
	seen := map[string]bool{}
	var all strings.Builder
	for _, g := range rules.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			switch {
			case r.Alert == "" || r.Expr == "":
				t.Errorf("group %s: a rule without alert or expr: %+v", g.Name, r)
			case seen[r.Alert]:
				t.Errorf("alert %s defined twice", r.Alert)
			case !slices.Contains([]string{"critical", "warning", "info"}, r.Labels["severity"]):
				t.Errorf("alert %s: severity %q", r.Alert, r.Labels["severity"])
			case r.Annotations["summary"] == "" || r.Annotations["description"] == "":
				t.Errorf("alert %s: want a summary and a description", r.Alert)
			}
			if r.For != "" && !promDuration.MatchString(r.For) {
				t.Errorf("alert %s: for %q is not a Prometheus duration", r.Alert, r.For)
			}
			seen[r.Alert] = true
			all.WriteString(r.Expr + "\n")
		}
	}
	for _, want := range append(watched, "up{") {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no alert watches %s", want)
		}
	}
}

// watched is what the alerts and the dashboard must each cover.
var watched = []string{
	"whitecross_projection_lag_seconds",
	"whitecross_projection_lag_events",
	`whitecross_projection_state{state="failed"}`,
	"whitecross_access_event_failures_total",
	`type="MedicationAdministrationBlocked"`,
	`type="LoginFailed"`,
	`type="UserLocked"`,
	`type="BreakGlassOpened"`,
	`whitecross_ledger_sealer_state{state="stopped"}`,
	"whitecross_ledger_unsigned_seconds",
	"whitecross_verify_problems",
	"whitecross_verify_last_success_timestamp_seconds",
	"whitecross_ready",
}

// TestDashboard reads the dashboard as Grafana would: a Prometheus
// datasource variable that every panel uses, unique panel IDs, an
// expression in every target, and every subject covered.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: want both", d.Title, d.UID)
	}
	hasVariable := slices.ContainsFunc(d.Templating.List, func(v struct{ Name, Type, Query string }) bool {
		return v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus"
	})
	if !hasVariable {
		t.Error("no Prometheus datasource variable named datasource")
	}
	ids := map[int]bool{}
	var all strings.Builder
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel ID %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %q and %d targets", p.Title, p.Datasource.UID, len(p.Targets))
		}
		for _, target := range p.Targets {
			if target.Expr == "" || target.RefID == "" {
				t.Errorf("panel %q: a target without expr or refId", p.Title)
			}
			all.WriteString(target.Expr + "\n")
		}
	}
	for _, want := range append(watched, "whitecross_http_request_duration_seconds_bucket",
		"whitecross_http_requests_total", "whitecross_ledger_tree_size",
		"whitecross_ledger_checkpoint_age_seconds") {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}
