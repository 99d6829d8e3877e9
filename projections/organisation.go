package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the organisation read model.
const (
	// DistrictsTable holds one row per district.
	DistrictsTable = "readmodel.districts"
	// SchoolsTable holds one row per school, with its district.
	SchoolsTable = "readmodel.schools"
)

// The SQL of the organisation read model; %[1]s is the table suffix.
const (
	organisationSchema = `
		CREATE TABLE readmodel.districts%[1]s (
			district_id text   NOT NULL,
			name        text   NOT NULL,
			created_by  text   NOT NULL,
			position    bigint NOT NULL,
			CONSTRAINT districts%[1]s_pkey PRIMARY KEY (district_id)
		);
		CREATE INDEX districts%[1]s_name_idx
			ON readmodel.districts%[1]s (name, district_id);
		CREATE TABLE readmodel.schools%[1]s (
			school_id   text   NOT NULL,
			district_id text   NOT NULL,
			name        text   NOT NULL,
			created_by  text   NOT NULL,
			position    bigint NOT NULL,
			CONSTRAINT schools%[1]s_pkey PRIMARY KEY (school_id)
		);
		CREATE INDEX schools%[1]s_name_idx
			ON readmodel.schools%[1]s (name, school_id);
		CREATE INDEX schools%[1]s_district_idx
			ON readmodel.schools%[1]s (district_id, name, school_id)`

	districtCreatedSQL = `
		INSERT INTO readmodel.districts%[1]s (district_id, name, created_by, position)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (district_id) DO NOTHING`

	schoolCreatedSQL = `
		INSERT INTO readmodel.schools%[1]s (school_id, district_id, name, created_by, position)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (school_id) DO NOTHING`
)

// Organisation projects district and school streams into DistrictsTable
// and SchoolsTable.
type Organisation struct{}

var _ Selective = Organisation{}

// Name returns "organisation".
func (Organisation) Name() string { return "organisation" }

// Tables returns the tables of the organisation read model.
func (Organisation) Tables() []string { return []string{DistrictsTable, SchoolsTable} }

// Schema returns the statements that create the tables with suffix.
func (Organisation) Schema(suffix string) string { return fmt.Sprintf(organisationSchema, suffix) }

// Selects reports whether e opens a district or a school.
func (Organisation) Selects(e eventstore.Event) bool {
	return (e.Type == (domain.DistrictCreated{}).EventType() && strings.HasPrefix(e.Stream, domain.DistrictStream(""))) ||
		(e.Type == (domain.SchoolCreated{}).EventType() && strings.HasPrefix(e.Stream, domain.SchoolStream("")))
}

// Apply applies DistrictCreated and SchoolCreated, and ignores every
// other event, and one whose payload has been destroyed.
func (o Organisation) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !o.Selects(e) || e.Data == nil {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	pos := int64(e.Position)
	switch d := decoded.(type) {
	case domain.DistrictCreated:
		_, err = tx.Exec(ctx, fmt.Sprintf(districtCreatedSQL, suffix), d.DistrictID, d.Name,
			d.CreatedBy, pos)
	case domain.SchoolCreated:
		_, err = tx.Exec(ctx, fmt.Sprintf(schoolCreatedSQL, suffix), d.SchoolID, d.DistrictID,
			d.Name, d.CreatedBy, pos)
	}
	return err
}

// OrganisationRow is a district or a school.
type OrganisationRow struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// DistrictID is a school's district; empty for a district.
	DistrictID string `json:"district_id,omitempty"`
}

// OrganisationScope is which districts and schools a caller may list.
// A caller's scope is the union of what each field set allows.
type OrganisationScope struct {
	// All: every district and school.
	All bool
	// District: that district and its schools.
	District string
	// Schools: those schools and their districts.
	Schools []string
}

// OrganisationFilter selects districts or schools.
type OrganisationFilter struct {
	Scope OrganisationScope
	// DistrictID, when set, keeps the schools of that district; it is
	// not used for districts.
	DistrictID string
	// Query, when set, keeps those whose name starts with it, ignoring
	// case.
	Query string
	// After is the cursor the previous page came with; empty for the
	// first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// The SQL of the lists, by name and ID, after the row whose ID is the
// parameter before the limit when it is set. The cursor holds an ID only.
const (
	searchSchoolsSQL = `
		SELECT s.school_id, s.name, s.district_id
		FROM readmodel.schools s
		WHERE ($1 OR s.district_id = $2 OR s.school_id = ANY($3::text[]))
			AND ($4::text = '' OR lower(s.name) LIKE lower($4) || '%' ESCAPE '\')
			AND ($5::text IS NULL OR (s.name, s.school_id) > (
				SELECT c.name, c.school_id FROM readmodel.schools c WHERE c.school_id = $5))
			AND ($7::text = '' OR s.district_id = $7)
		ORDER BY s.name, s.school_id
		LIMIT $6`

	searchDistrictsSQL = `
		SELECT d.district_id, d.name, ''
		FROM readmodel.districts d
		WHERE ($1 OR d.district_id = $2 OR d.district_id IN (
				SELECT o.district_id FROM readmodel.schools o WHERE o.school_id = ANY($3::text[])))
			AND ($4::text = '' OR lower(d.name) LIKE lower($4) || '%' ESCAPE '\')
			AND ($5::text IS NULL OR (d.name, d.district_id) > (
				SELECT c.name, c.district_id FROM readmodel.districts c WHERE c.district_id = $5))
		ORDER BY d.name, d.district_id
		LIMIT $6`
)

// SearchSchools returns a page of the schools f selects within its
// scope, by name and ID, and the cursor of the next page, empty when
// this page is the last. It returns an error wrapping ErrInvalidCursor
// for a cursor no page gave.
func SearchSchools(ctx context.Context, q Querier, f OrganisationFilter) ([]OrganisationRow, string, error) {
	return searchOrganisation(ctx, q, searchSchoolsSQL, f, f.DistrictID)
}

// SearchDistricts returns a page of the districts f selects within its
// scope, as SearchSchools does for schools.
func SearchDistricts(ctx context.Context, q Querier, f OrganisationFilter) ([]OrganisationRow, string, error) {
	return searchOrganisation(ctx, q, searchDistrictsSQL, f)
}

// searchOrganisation runs sql, a list of districts or schools, with f's
// parameters and then extra.
func searchOrganisation(
	ctx context.Context,
	q Querier,
	sql string,
	f OrganisationFilter,
	extra ...any,
) ([]OrganisationRow, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", fmt.Errorf("search organisation: %w", err)
	}
	limit := pageSize(f.Limit)
	s := f.Scope
	args := append([]any{s.All, s.District, orEmpty(s.Schools), likePrefix(f.Query), after,
		limit + 1}, extra...)
	rows, _ := q.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (OrganisationRow, error) {
		var o OrganisationRow
		err := row.Scan(&o.ID, &o.Name, &o.DistrictID)
		return o, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("search organisation: %w", err)
	}
	out, next := pageByID(out, limit, func(o OrganisationRow) string { return o.ID })
	return out, next, nil
}
