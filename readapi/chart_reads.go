package readapi

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/whitecross/whitecross/auth"
	"github.com/whitecross/whitecross/projections"
)

// ChartResponse is a student's whole chart, as the charts read model
// holds it: demographics, emergency contacts, every entry with its
// corrections (amendments applied, entries in error kept and marked),
// medication orders, every dose record (blocked attempts with their
// failed checks included) and the active alerts.
type ChartResponse = projections.Chart

// chartRoute names the chart read in access events.
const chartRoute = "GET /v1/students/:id"

func (h readModelHandlers) chartRoutes() []Route {
	return []Route{{
		Method: http.MethodGet, Path: "/v1/students/:id",
		Summary: "A student's whole chart, within the caller's scope or under an active break-glass grant",
		Access:  Access{Capability: auth.ReadClinical}, Response: ChartResponse{}, PHI: true,
		Query:   []QueryParam{queryAfter, asOfParam},
		Handler: h.chart,
	}}
}

// chart answers the chart of the student the path names, from the charts
// read model, once the caller's scope allows it and the access is
// recorded.
func (h readModelHandlers) chart(c echo.Context) error {
	if c.QueryParams().Has("as_of") {
		return h.chartAsOf(c)
	}
	if err := h.waitAfter(c); err != nil {
		return err
	}
	// The chart's row says where the student is: one query decides the
	// scope and fetches the chart.
	id := c.Param("id")
	doc := chartBuffers.Get().(*bytes.Buffer)
	defer putChartBuffer(doc)
	row, ok, err := projections.ChartInto(c.Request().Context(), h.DB, id, doc)
	if err != nil {
		return Unavailable("the read models cannot be read")
	}
	if !ok {
		return NotFound("no student with this id")
	}
	scope, err := h.scopeAt(c, id, row.SchoolID, chartRoute)
	if err != nil {
		return err
	}
	if err := h.recordAccess(c, scope, chartRoute); err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, doc.Bytes())
}

// chartBuffers hold charts between their read and their answer, so that
// a read does not allocate the bytes of a whole chart (about 55 kB for a
// school year's) for the collector to reclaim.
var chartBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxKeptChart is the largest buffer chartBuffers keeps: a rare huge
// chart is left to the collector rather than held for ever.
const maxKeptChart = 1 << 20

func putChartBuffer(b *bytes.Buffer) {
	if b.Cap() > maxKeptChart {
		return
	}
	b.Reset()
	chartBuffers.Put(b)
}
