package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
)

// The tables of the accounts read model.
const (
	// AccountsTable holds one row per account: who it is, its roles and
	// scope, and whether it is active, locked or deactivated. Never a
	// password hash or a second factor's secret.
	AccountsTable = "readmodel.accounts"
	// AccountSchoolsTable holds the district of every school, as the
	// accounts projection follows them, for the scope of a district
	// administrator.
	AccountSchoolsTable = "readmodel.account_schools"
)

// The states of an account.
const (
	AccountActive      = "active"
	AccountLocked      = "locked"
	AccountDeactivated = "deactivated"
)

// AccountStates lists every state of an account.
var AccountStates = []string{AccountActive, AccountLocked, AccountDeactivated}

// The SQL of the accounts read model; %[1]s is the table suffix. Roles
// and schools keep the order the account's stream gave them, as
// domain.User does.
const (
	accountsSchema = `
		CREATE TABLE readmodel.accounts%[1]s (
			user_id          text        NOT NULL,
			email            text        NOT NULL,
			display_name     text        NOT NULL,
			roles            text[]      NOT NULL,
			schools          text[]      NOT NULL,
			district         text        NOT NULL,
			active           boolean     NOT NULL,
			locked_until     timestamptz,
			totp_enrolled    boolean     NOT NULL,
			position         bigint      NOT NULL,
			updated_position bigint      NOT NULL,
			CONSTRAINT accounts%[1]s_pkey PRIMARY KEY (user_id)
		);
		CREATE INDEX accounts%[1]s_email_idx
			ON readmodel.accounts%[1]s (email, user_id);
		CREATE TABLE readmodel.account_schools%[1]s (
			school_id   text   NOT NULL,
			district_id text   NOT NULL,
			position    bigint NOT NULL,
			CONSTRAINT account_schools%[1]s_pkey PRIMARY KEY (school_id)
		);
		CREATE INDEX account_schools%[1]s_district_idx
			ON readmodel.account_schools%[1]s (district_id)`

	accountCreatedSQL = `
		INSERT INTO readmodel.accounts%[1]s (user_id, email, display_name, roles,
			schools, district, active, totp_enrolled, position, updated_position)
		VALUES ($1, $2, $3, $4, $5, $6, true, false, $7, $7)
		ON CONFLICT (user_id) DO NOTHING`

	// %[2]s is the column changed: roles or schools. Adding appends what
	// it does not hold yet, in the order given; removing keeps the rest
	// in order.
	accountAddSQL = `
		UPDATE readmodel.accounts%[1]s SET
			%[2]s = %[2]s || ARRAY(SELECT x FROM unnest($2::text[]) WITH ORDINALITY AS n(x, i)
				WHERE x <> ALL(%[2]s) GROUP BY x ORDER BY min(i)),
			updated_position = $3
		WHERE user_id = $1 AND updated_position < $3`

	accountRemoveSQL = `
		UPDATE readmodel.accounts%[1]s SET
			%[2]s = ARRAY(SELECT x FROM unnest(%[2]s) WITH ORDINALITY AS n(x, i)
				WHERE x <> ALL($2::text[]) ORDER BY i),
			updated_position = $3
		WHERE user_id = $1 AND updated_position < $3`

	// %[2]s is the column set to $2.
	accountSetSQL = `
		UPDATE readmodel.accounts%[1]s SET %[2]s = $2, updated_position = $3
		WHERE user_id = $1 AND updated_position < $3`

	accountSchoolSQL = `
		INSERT INTO readmodel.account_schools%[1]s (school_id, district_id, position)
		VALUES ($1, $2, $3)
		ON CONFLICT (school_id) DO NOTHING`
)

// Accounts projects user streams into AccountsTable, and follows the
// district of each school in AccountSchoolsTable.
type Accounts struct{}

var _ Selective = Accounts{}

// Name returns "accounts".
func (Accounts) Name() string { return "accounts" }

// Tables returns the tables of the accounts read model.
func (Accounts) Tables() []string { return []string{AccountsTable, AccountSchoolsTable} }

// Schema returns the statements that create the tables with suffix.
func (Accounts) Schema(suffix string) string { return fmt.Sprintf(accountsSchema, suffix) }

// accountEvents are the events of a user stream Accounts applies; logins
// and passwords change nothing it holds.
var accountEvents = eventTypes(
	domain.UserCreated{},
	domain.RolesAssigned{},
	domain.RolesRemoved{},
	domain.SchoolsAssigned{},
	domain.SchoolsRemoved{},
	domain.UserDeactivated{},
	domain.UserReactivated{},
	domain.UserLocked{},
	domain.UserUnlocked{},
	domain.TOTPEnrolled{},
	domain.TOTPRemoved{},
)

// Selects reports whether e changes an account, or opens a school.
func (Accounts) Selects(e eventstore.Event) bool {
	switch {
	case strings.HasPrefix(e.Stream, domain.UserStream("")):
		return accountEvents[e.Type]
	case strings.HasPrefix(e.Stream, domain.SchoolStream("")):
		return e.Type == (domain.SchoolCreated{}).EventType()
	}
	return false
}

// Apply applies the events of user streams that change an account's
// identity, roles, schools or state, and the opening of schools. It
// ignores every other event, and an event whose payload has been
// destroyed. Each change is guarded by the position, so that an event
// applied twice changes nothing the second time.
func (a Accounts) Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error {
	if !a.Selects(e) || e.Data == nil {
		return nil
	}
	decoded, err := domain.DecodeEvent(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return err
	}
	user := strings.TrimPrefix(e.Stream, domain.UserStream(""))
	sql, args := accountStatement(decoded, user, int64(e.Position))
	if sql == "" {
		return nil
	}
	_, err = tx.Exec(ctx, strings.ReplaceAll(sql, "%[1]s", suffix), args...)
	return err
}

// accountStatement returns the statement that applies e, at position
// pos of user's stream, with %[1]s left for the suffix, and its
// arguments.
func accountStatement(e domain.Event, user string, pos int64) (string, []any) {
	set := func(column string, v any) (string, []any) {
		return strings.ReplaceAll(accountSetSQL, "%[2]s", column), []any{user, v, pos}
	}
	change := func(sql, column string, values []string) (string, []any) {
		return strings.ReplaceAll(sql, "%[2]s", column), []any{user, orEmpty(values), pos}
	}
	switch d := e.(type) {
	case domain.SchoolCreated:
		return accountSchoolSQL, []any{d.SchoolID, d.DistrictID, pos}
	case domain.UserCreated:
		return accountCreatedSQL, []any{d.UserID, d.Email, d.DisplayName, roleNames(d.Roles),
			orEmpty(d.Schools), d.District, pos}
	case domain.RolesAssigned:
		return change(accountAddSQL, "roles", roleNames(d.Roles))
	case domain.RolesRemoved:
		return change(accountRemoveSQL, "roles", roleNames(d.Roles))
	case domain.SchoolsAssigned:
		return change(accountAddSQL, "schools", d.Schools)
	case domain.SchoolsRemoved:
		return change(accountRemoveSQL, "schools", d.Schools)
	case domain.UserDeactivated:
		return set("active", false)
	case domain.UserReactivated:
		return set("active", true)
	case domain.UserLocked:
		return set("locked_until", d.Until)
	case domain.UserUnlocked:
		return set("locked_until", nil)
	case domain.TOTPEnrolled:
		return set("totp_enrolled", true)
	case domain.TOTPRemoved:
		return set("totp_enrolled", false)
	}
	return "", nil
}

func roleNames(roles []domain.Role) []string {
	names := make([]string, len(roles))
	for i, r := range roles {
		names[i] = string(r)
	}
	return names
}

// orEmpty returns s, or an empty slice for nil: the columns are never
// null.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AccountRow is one account, as administrators list it.
type AccountRow struct {
	ID          string   `json:"id"`
	Email       string   `json:"email"`
	DisplayName string   `json:"display_name"`
	Roles       []string `json:"roles"`
	Schools     []string `json:"schools"`
	District    string   `json:"district,omitempty"`
	// State is active, locked (a lock in force at the time of the
	// query) or deactivated.
	State        string `json:"state"`
	TOTPEnrolled bool   `json:"totp_enrolled"`
}

// AccountScope is whose accounts a caller may list, as
// commands.Accounts.User decides for one account. A caller's scope is
// the union of what each field set allows.
type AccountScope struct {
	// All: every account (a system administrator, a compliance
	// officer).
	All bool
	// District: the accounts of a district administrator's district
	// (the district's own, or whose schools are all in it), system
	// administrators' excepted.
	District string
	// Schools: the nurse and school-administrator accounts whose
	// schools are all among a school administrator's.
	Schools []string
	// Self: the caller's own account.
	Self string
}

// AccountFilter selects accounts for SearchAccounts.
type AccountFilter struct {
	Scope AccountScope
	// Role, School and District, when set, keep the accounts with that
	// role, assigned to that school, of that district.
	Role     string
	School   string
	District string
	// State, when set, keeps the accounts in that state at Now.
	State string
	Now   time.Time
	// Query, when set, keeps the accounts whose email or display name
	// starts with it, ignoring case.
	Query string
	// After is the cursor SearchAccounts returned with the previous
	// page; empty for the first page.
	After string
	// Limit caps the page; zero means 50, and it is at most 500.
	Limit int
}

// searchAccountsSQL returns a page of accounts, by email and ID, after
// the account whose ID is $11 when it is set. The cursor holds an ID
// only, never an address.
const searchAccountsSQL = `
	WITH listed AS (
		SELECT user_id, email, display_name, roles, schools, district,
			CASE WHEN NOT active THEN 'deactivated'
				WHEN locked_until > $1 THEN 'locked'
				ELSE 'active' END AS state,
			totp_enrolled
		FROM readmodel.accounts a
		WHERE ($2
			OR a.user_id = $3
			OR ($4::text <> '' AND NOT 'sysadmin' = ANY(a.roles) AND (a.district = $4
				OR (cardinality(a.schools) > 0 AND a.schools <@ ARRAY(
					SELECT school_id FROM readmodel.account_schools WHERE district_id = $4)))
				AND (a.district = '' OR a.district = $4))
			OR (cardinality($5::text[]) > 0 AND a.district = ''
				AND a.roles <@ ARRAY['nurse', 'school_admin']
				AND cardinality(a.schools) > 0 AND a.schools <@ $5))
	)
	SELECT user_id, email, display_name, roles, schools, district, state, totp_enrolled
	FROM listed l
	WHERE ($6::text = '' OR $6 = ANY(l.roles))
		AND ($7::text = '' OR $7 = ANY(l.schools))
		AND ($8::text = '' OR l.district = $8)
		AND ($9::text = '' OR l.state = $9)
		AND ($10::text = ''
			OR lower(l.email) LIKE lower($10) || '%' ESCAPE '\'
			OR lower(l.display_name) LIKE lower($10) || '%' ESCAPE '\')
		AND ($11::text IS NULL OR (l.email, l.user_id) > (
			SELECT c.email, c.user_id FROM readmodel.accounts c WHERE c.user_id = $11))
	ORDER BY l.email, l.user_id
	LIMIT $12`

// SearchAccounts returns a page of the accounts f selects within its
// scope, by email and ID, and the cursor of the next page, empty when
// this page is the last. It returns an error wrapping ErrInvalidCursor
// for a cursor no page gave; a cursor whose account is gone gives an
// empty page.
func SearchAccounts(ctx context.Context, q Querier, f AccountFilter) ([]AccountRow, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", fmt.Errorf("search accounts: %w", err)
	}
	limit := pageSize(f.Limit)
	s := f.Scope
	rows, _ := q.Query(ctx, searchAccountsSQL, f.Now, s.All, s.Self, s.District,
		orEmpty(s.Schools), f.Role, f.School, f.District, f.State, likePrefix(f.Query),
		after, limit+1)
	accounts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccountRow, error) {
		var a AccountRow
		err := row.Scan(&a.ID, &a.Email, &a.DisplayName, &a.Roles, &a.Schools, &a.District,
			&a.State, &a.TOTPEnrolled)
		return a, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("search accounts: %w", err)
	}
	accounts, next := pageByID(accounts, limit, func(a AccountRow) string { return a.ID })
	return accounts, next, nil
}
