package readapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/commands"
	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/projections"
	"github.com/whitecross/whitecross/readapi"
)

const (
	benchRate    = 500 // commands a second
	benchSeconds = 4
)

// BenchmarkAdministration gives medication doses end to end (HTTP, token,
// load the chart, decide every rule, append) at 500 commands a second,
// each to another student's chart, and reports the latency percentiles;
// "noop" sends GET /healthz at the same pace on the same server, the
// limit beside it.
func BenchmarkAdministration(b *testing.B) {
	w := newWorld(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}}
	b.Run("administer", func(b *testing.B) {
		// Each run gives fresh doses: a dose given twice is refused.
		doses := seedDoses(b, w, benchRate*benchSeconds)
		for b.Loop() {
			reportPaced(b, client, func(i int) *http.Request {
				body, _ := json.Marshal(doses[i].body)
				req, _ := http.NewRequest(http.MethodPost, w.srv.URL+doses[i].path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+w.tokens[nurse])
				return req
			}, http.StatusCreated)
		}
	})
	b.Run("noop", func(b *testing.B) {
		for b.Loop() {
			reportPaced(b, client, func(int) *http.Request {
				req, _ := http.NewRequest(http.MethodGet, w.srv.URL+"/healthz", nil)
				return req
			}, http.StatusOK)
		}
	})
}

type dose struct {
	path string
	body readapi.AdministrationRequest
}

// seedDoses enrols n students at the nurse's school, each with an order
// due now, and returns one correct dose for each.
func seedDoses(b *testing.B, w *world, n int) []dose {
	zone, _ := time.LoadLocation("America/Chicago")
	due := w.clock.Now().In(zone).Truncate(time.Minute)
	registrar := auth.Principal{UserID: system.UserID, Roles: []domain.Role{domain.RoleNurse},
		Schools: []string{w.schoolIn}}
	doses := make([]dose, n)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := g; i < n; i += 8 {
				doses[i] = seedDose(b, w, registrar, due)
			}
		})
	}
	wg.Wait()
	return doses
}

func seedDose(b *testing.B, w *world, registrar auth.Principal, due time.Time) dose {
	ctx := b.Context()
	id, _, err := w.clinic.Enrol(ctx, registrar, commands.Meta{}, domain.EnrollStudent{
		StudentNumber: uuid.NewString()[:12], DistrictID: w.districtIn, SchoolID: w.schoolIn,
		GivenName: "Bench", FamilyName: "Student", BirthDate: "2014-05-01", Grade: "6",
		Gender: "unknown", EnrolledOn: "2025-08-20"})
	if err != nil {
		b.Fatal(err)
	}
	order := uuid.NewString()
	_, err = w.clinic.Chart(ctx, registrar, commands.Meta{}, id,
		func(s *domain.Student, _ time.Time) ([]domain.Event, error) {
			return s.Medications.NewOrder(domain.OrderMedication{OrderID: order, DrugName: "Albuterol",
				Ingredients: []string{"albuterol"}, Strength: "90 mcg", DoseAmount: "2", DoseUnit: "puff",
				Route: "inhaled", Schedule: domain.DoseSchedule{Kind: domain.ScheduleFixed,
					Times: []string{due.Format("15:04")}, TimeZone: "America/Chicago"},
				StartOn: due.AddDate(0, 0, -1).Format(time.DateOnly), EndOn: due.AddDate(0, 1, 0).Format(time.DateOnly),
				Prescriber: domain.Prescriber{Name: "Dr. D"}, ConsentOn: due.AddDate(0, 0, -1).Format(time.DateOnly),
				OrderedBy: registrar.UserID})
		})
	if err != nil {
		b.Fatal(err)
	}
	return dose{path: "/v1/students/" + id + "/administrations", body: readapi.AdministrationRequest{
		AttemptID: uuid.NewString(), OrderID: order, StudentID: id, DrugName: "Albuterol",
		DoseAmount: "2", DoseUnit: "puff", Route: "inhaled", GivenAt: due.Add(time.Minute), ScheduledFor: due}}
}

// reportPaced sends benchRate requests a second for benchSeconds, each
// in its own goroutine at its scheduled time, and reports the achieved
// rate and the latency percentiles.
func reportPaced(b *testing.B, client *http.Client, request func(i int) *http.Request, want int) {
	total := benchRate * benchSeconds
	lat := make([]time.Duration, total)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(i) * time.Second / benchRate)))
		wg.Go(func() {
			t0 := time.Now()
			resp, err := client.Do(request(i))
			lat[i] = time.Since(t0)
			if err == nil {
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != want {
				mu.Lock()
				failures = append(failures, fmt.Sprint(err, statusOf(resp)))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if len(failures) > 0 {
		b.Fatalf("%d of %d requests failed, first: %s", len(failures), total, failures[0])
	}
	slices.Sort(lat)
	b.ReportMetric(float64(total)/elapsed.Seconds(), "commands/s")
	b.ReportMetric(ms(lat[total/2]), "p50-ms")
	b.ReportMetric(ms(lat[total*99/100]), "p99-ms")
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkChartRead reads one student's chart from 64 concurrent clients
// over real HTTP with real tokens: "audited" through the API, which reads
// the charts read model's row, decides the scope from the school it
// names, appends an access event, then answers the row's document;
// "unaudited" through a route that only this benchmark registers, the
// same read (one query, the scope from its row) without the event, the
// limit beside it.
func BenchmarkChartRead(b *testing.B) {
	w := newWorld(b)
	unaudited := readapi.Route{Method: http.MethodGet, Path: "/v1/bench/students/:id",
		Summary: "the chart without its access event, for comparison only",
		Access:  readapi.Access{Capability: auth.ReadClinical},
		Handler: func(c echo.Context) error {
			doc := benchBuffers.Get().(*bytes.Buffer)
			defer func() { doc.Reset(); benchBuffers.Put(doc) }()
			row, ok, err := projections.ChartInto(c.Request().Context(), w.db, c.Param("id"), doc)
			if err != nil || !ok {
				return readapi.NotFound("no chart")
			}
			if !principalOf(c).AtSchool(row.SchoolID) {
				return readapi.Forbidden("out of scope")
			}
			return c.JSONBlob(http.StatusOK, doc.Bytes())
		}}
	api, err := readapi.New(readapi.Config{
		Logger:       zerolog.Nop(),
		Routes:       []readapi.Route{unaudited},
		Authenticate: readapi.Authenticator(w.accounts),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	seedChart(b, w)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for _, c := range []struct{ name, url string }{
		{"audited", w.srv.URL + "/v1/students/" + w.studentIn},
		{"unaudited", srv.URL + "/v1/bench/students/" + w.studentIn},
	} {
		b.Run(c.name, func(b *testing.B) {
			readConcurrently(b, client, c.url, w.tokens[nurse], 64)
		})
	}
}

// benchBuffers hold the charts of the unaudited read, as the API's
// own buffers hold those of the audited one.
var benchBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func principalOf(c echo.Context) auth.Principal {
	p, _ := readapi.PrincipalOf(c)
	return p
}

// seedChart gives the benchmark's student a chart of a school year: 40
// entries and 150 doses of one order, then waits for the read models.
func seedChart(b *testing.B, w *world) {
	registrar := auth.Principal{UserID: system.UserID, Roles: []domain.Role{domain.RoleNurse},
		Schools: []string{w.schoolIn}}
	now := w.clock.Now()
	order := uuid.NewString()
	var events []domain.Event
	for i := range 40 {
		pulse := 70 + i%30
		events = append(events, domain.VitalsRecorded{EntryID: uuid.NewString(),
			MeasuredAt: now.Add(-time.Duration(i) * time.Hour), HeartRate: &pulse})
	}
	events = append(events, domain.MedicationOrdered{OrderID: order, DrugName: "Albuterol",
		Ingredients: []string{"albuterol"}, Strength: "90 mcg", DoseAmount: "2", DoseUnit: "puff",
		Route: "inhaled", Schedule: domain.DoseSchedule{Kind: domain.SchedulePRN, TimeZone: "UTC",
			MinIntervalMinutes: 240, MaxPerDay: 3}, StartOn: "2025-08-20", EndOn: "2026-06-01"})
	for i := range 150 {
		events = append(events, domain.MedicationAdministered{AttemptID: uuid.NewString(), OrderID: order,
			GivenAt: now.Add(-time.Duration(i) * 24 * time.Hour), DoseAmount: "2", DoseUnit: "puff",
			Route: "inhaled", NurseID: registrar.UserID})
	}
	_, err := w.clinic.Chart(b.Context(), registrar, commands.Meta{}, w.studentIn,
		func(*domain.Student, time.Time) ([]domain.Event, error) { return events, nil })
	if err != nil {
		b.Fatal(err)
	}
	w.sync()
}

// readConcurrently has clients goroutines share b.N GETs and reports the
// throughput and latency percentiles.
func readConcurrently(b *testing.B, client *http.Client, url, token string, clients int) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				t0 := time.Now()
				resp, err := client.Do(req)
				lat[i] = time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Errorf("GET: %v %d", err, statusOf(resp))
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
	b.ReportMetric(ms(lat[b.N/2]), "p50-ms")
	b.ReportMetric(ms(lat[b.N*99/100]), "p99-ms")
}
