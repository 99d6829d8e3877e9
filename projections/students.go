package projections

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// StudentsTable is the students read model: one row per student ever
// enrolled, with the demographics a search shows.
const StudentsTable = "readmodel.students"

// The SQL of the students read model; %[1]s is the table suffix.
const (
	studentsSchema = `
		CREATE TABLE readmodel.students%[1]s (
			student_id       uuid    NOT NULL,
			student_number   text    NOT NULL,
			district_id      uuid    NOT NULL,
			school_id        uuid    NOT NULL,
			given_name       text    NOT NULL,
			family_name      text    NOT NULL,
			birth_date       date    NOT NULL,
			grade            text    NOT NULL,
			enrolled         boolean NOT NULL,
			revision         bigint  NOT NULL,
			updated_position bigint  NOT NULL,
			CONSTRAINT students%[1]s_pkey PRIMARY KEY (student_id)
		);
		CREATE INDEX students%[1]s_order_idx
			ON readmodel.students%[1]s (family_name, given_name, student_id);
		CREATE INDEX students%[1]s_school_idx
			ON readmodel.students%[1]s (school_id, family_name, given_name, student_id);
		CREATE INDEX students%[1]s_family_name_idx
			ON readmodel.students%[1]s (lower(family_name) text_pattern_ops);
		CREATE INDEX students%[1]s_given_name_idx
			ON readmodel.students%[1]s (lower(given_name) text_pattern_ops);
		CREATE INDEX students%[1]s_number_idx
			ON readmodel.students%[1]s (lower(student_number) text_pattern_ops)`

	enrolStudentSQL = `
		INSERT INTO readmodel.students%[1]s (student_id, student_number, district_id,
			school_id, given_name, family_name, birth_date, grade, enrolled,
			revision, updated_position)
		VALUES ($1, $2, $3, $4, $5, $6, $7::text::date, $8, true, $9, $10)`

	// An empty field of DemographicsUpdated is unchanged.
	updateDemographicsSQL = `
		UPDATE readmodel.students%[1]s SET
			given_name = coalesce(nullif($2, ''), given_name),
			family_name = coalesce(nullif($3, ''), family_name),
			birth_date = coalesce(nullif($4::text, '')::date, birth_date),
			grade = coalesce(nullif($5, ''), grade),
			revision = $6, updated_position = $7
		WHERE student_id = $1`

	transferStudentSQL = `
		UPDATE readmodel.students%[1]s
		SET school_id = $2, revision = $3, updated_position = $4
		WHERE student_id = $1`

	withdrawStudentSQL = `
		UPDATE readmodel.students%[1]s
		SET enrolled = false, revision = $2, updated_position = $3
		WHERE student_id = $1`
)

// Students projects student streams into StudentsTable.
type Students struct{}

var _ Selective = Students{}

// Name returns "students".
func (Students) Name() string { return "students" }

// Tables returns StudentsTable.
func (Students) Tables() []string { return []string{StudentsTable} }

// Schema returns the statements that create StudentsTable with suffix.
func (Students) Schema(suffix string) string { return fmt.Sprintf(studentsSchema, suffix) }

// studentEvents are the events Students applies.
var studentEvents = eventTypes(
	domain.StudentEnrolled{},
	domain.DemographicsUpdated{},
	domain.StudentTransferred{},
	domain.StudentWithdrawn{},
)

// Selects reports whether e is one of the events Apply applies.
func (Students) Selects(e eventstore.Event) bool {
	return studentEvents[e.Type] && strings.HasPrefix(e.Stream, domain.StudentStream(""))
}

// Apply applies StudentEnrolled, DemographicsUpdated, StudentTransferred
// and StudentWithdrawn, and ignores every other event, as well as an
// event whose payload has been destroyed.
func (s Students) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !s.Selects(e) || e.Data == nil {
		return nil
	}
	studentID := strings.TrimPrefix(e.Stream, domain.StudentStream(""))
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}

	var sql string
	var args []any
	rev, pos := int64(e.Revision), int64(e.Position)
	switch d := decoded.(type) {
	case domain.StudentEnrolled:
		sql = enrolStudentSQL
		args = []any{d.StudentID, d.StudentNumber, d.DistrictID, d.SchoolID,
			d.GivenName, d.FamilyName, string(d.BirthDate), string(d.Grade), rev, pos}
	case domain.DemographicsUpdated:
		sql = updateDemographicsSQL
		args = []any{studentID, d.GivenName, d.FamilyName,
			string(d.BirthDate), string(d.Grade), rev, pos}
	case domain.StudentTransferred:
		sql = transferStudentSQL
		args = []any{studentID, d.ToSchoolID, rev, pos}
	case domain.StudentWithdrawn:
		sql = withdrawStudentSQL
		args = []any{studentID, rev, pos}
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(sql, suffix), args...)
	return err
}

// StudentRow is a row of StudentsTable.
type StudentRow struct {
	StudentID     string
	StudentNumber string
	DistrictID    string
	SchoolID      string
	GivenName     string
	FamilyName    string
	BirthDate     domain.Date
	Grade         domain.Grade
	// Enrolled is false once the student has been withdrawn.
	Enrolled bool
	// Revision and UpdatedPosition are the stream revision and the log
	// position of the last event applied to the row.
	Revision        uint64
	UpdatedPosition uint64
}

// StudentFilter selects students for SearchStudents.
type StudentFilter struct {
	// Schools are the IDs of the schools searched. Empty searches none,
	// unless AllSchools is set, so that a caller who forgets a user's
	// schools shows nothing rather than everything.
	Schools    []string
	AllSchools bool
	// Grade, when set, keeps the students of that grade.
	Grade domain.Grade
	// Query, when set, keeps the students whose given name, family name
	// or student number starts with it, ignoring case.
	Query string
	// After is the cursor SearchStudents returned with the previous page;
	// empty for the first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// ErrInvalidCursor is returned by SearchStudents for an After that no
// search returned. Test with errors.Is.
var ErrInvalidCursor = errors.New("invalid cursor")

// searchStudentsSQL returns a page of students, by family name, given
// name and ID, after the student whose ID is $5 when it is set. The
// cursor holds an ID only, never a name: it travels in URLs.
const searchStudentsSQL = `
	SELECT student_id::text, student_number, district_id::text, school_id::text,
		given_name, family_name, birth_date::text, grade, enrolled,
		revision, updated_position
	FROM readmodel.students s
	WHERE ($1 OR s.school_id = ANY($2::uuid[]))
		AND ($3::text = '' OR s.grade = $3)
		AND ($4::text = ''
			OR lower(s.family_name) LIKE lower($4) || '%' ESCAPE '\'
			OR lower(s.given_name) LIKE lower($4) || '%' ESCAPE '\'
			OR lower(s.student_number) LIKE lower($4) || '%' ESCAPE '\')
		AND ($5::uuid IS NULL OR (s.family_name, s.given_name, s.student_id) > (
			SELECT c.family_name, c.given_name, c.student_id
			FROM readmodel.students c WHERE c.student_id = $5::uuid))
	ORDER BY s.family_name, s.given_name, s.student_id
	LIMIT $6`

// Querier is what SearchStudents needs of a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// SearchStudents returns a page of the students f selects, ordered by
// family name, given name and ID, and the cursor of the next page, empty
// when this page is the last. A cursor whose student is no longer in the
// read model gives an empty page.
func SearchStudents(ctx context.Context, q Querier, f StudentFilter) ([]StudentRow, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", fmt.Errorf("search students: %w", err)
	}
	limit := pageSize(f.Limit)

	schools := f.Schools
	if schools == nil {
		schools = []string{}
	}
	rows, _ := q.Query(ctx, searchStudentsSQL, f.AllSchools, schools, string(f.Grade),
		likePrefix(f.Query), after, limit+1)
	students, err := pgx.CollectRows(rows, scanStudent)
	if err != nil {
		return nil, "", fmt.Errorf("search students: %w", err)
	}
	students, next := pageByID(students, limit, func(s StudentRow) string { return s.StudentID })
	return students, next, nil
}

func scanStudent(row pgx.CollectableRow) (StudentRow, error) {
	var s StudentRow
	var revision, position int64
	err := row.Scan(&s.StudentID, &s.StudentNumber, &s.DistrictID, &s.SchoolID,
		&s.GivenName, &s.FamilyName, &s.BirthDate, &s.Grade, &s.Enrolled,
		&revision, &position)
	s.Revision, s.UpdatedPosition = uint64(revision), uint64(position)
	return s, err
}

// likeEscaper escapes the wildcards of a LIKE pattern.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePrefix returns query, trimmed, as the start of a LIKE pattern.
func likePrefix(query string) string {
	return likeEscaper.Replace(strings.TrimSpace(query))
}

// pageByID returns the first limit rows, of the limit+1 a query asked
// for, and the cursor of the next page: the ID of the last row, or empty
// when no row was left over.
func pageByID[T any](rows []T, limit int, id func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, encodeCursor(id(rows[limit-1]))
}

// encodeCursor returns the cursor of the page after studentID's row.
func encodeCursor(studentID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(studentID))
}

// decodeCursor returns the student ID in cursor; nil for an empty cursor.
func decodeCursor(cursor string) (any, error) {
	if cursor == "" {
		return nil, nil
	}
	id, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || !domain.ValidID(string(id)) {
		return nil, ErrInvalidCursor
	}
	return string(id), nil
}

// studentSchoolSQL returns the school a student is at in the read model.
const studentSchoolSQL = `SELECT school_id::text FROM readmodel.students WHERE student_id = $1`

// StudentSchool returns the school the students read model has studentID
// at, and false when it has no such student (never enrolled, or not yet
// projected).
func StudentSchool(ctx context.Context, q Querier, studentID string) (string, bool, error) {
	if !domain.ValidID(studentID) {
		return "", false, nil
	}
	rows, _ := q.Query(ctx, studentSchoolSQL, studentID)
	school, err := pgx.CollectOneRow(rows, pgx.RowTo[string])
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("student school: %w", err)
	}
	return school, true, nil
}
