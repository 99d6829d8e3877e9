package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/whitecross/whitecross/domain"
	"github.com/whitecross/whitecross/eventstore"
	"github.com/whitecross/whitecross/eventstore/postgres"
)

// Projection builds one read model from the log. The Runner calls Apply
// for every event of the log, in position order, each inside a
// transaction that also advances the projection's checkpoint, so that an
// event is applied exactly once. A projection ignores the events it has
// no use for by returning nil.
//
// A projection's name is stored state (its checkpoint row), and so are
// its tables: renaming one, or changing what Schema creates, takes a
// Rebuild.
type Projection interface {
	// Name identifies the projection and its checkpoint, for example
	// "students". It is also its Watermill topic and handler name.
	Name() string

	// Tables lists the tables the projection owns, each qualified with
	// its schema, for example "readmodel.students". A rebuild drops them
	// and puts fresh ones in their place.
	Tables() []string

	// Schema returns the statements that create the projection's tables
	// with suffix added to every name it gives (tables, indexes,
	// constraints): suffix is "" for the live tables and "_rebuild"
	// while a rebuild builds their replacements.
	Schema(suffix string) string

	// Apply applies e to the tables named with suffix, within tx, which
	// the Runner owns: Apply neither commits nor rolls it back. An error
	// or a panic is retried; when it persists the projection stops.
	// e.Data is nil when the event's payload has been destroyed.
	//
	// tx queues each Exec and sends the queue with the checkpoint's
	// update (a rebuild: at the end of its batch), or before any Query,
	// QueryRow, SendBatch or CopyFrom, to spare a round trip per
	// statement. An Exec therefore returns an empty CommandTag and no
	// error; its error fails the event that queued it when the queue is
	// sent. A projection that needs the rows affected asks with a Query.
	Apply(ctx context.Context, tx pgx.Tx, e eventstore.Event, suffix string) error
}

// Selective is a Projection that says, from an event's envelope alone,
// which events it applies. The Runner applies only those, each in its
// transaction; past any other it moves the projection's checkpoint in
// memory and writes it to the database now and then (Config
// CheckpointInterval), since an event applied again changes nothing
// where it changed nothing the first time. A rebuild still hands Apply
// every event.
//
// Selects must be true for every event Apply would change a table for:
// an event left out is lost to the live tables, and the tests that
// compare a live projection with its rebuild catch it.
type Selective interface {
	Projection

	// Selects reports whether Apply may change anything for e. It reads
	// the envelope (type, stream) and nothing else: no data, no
	// database.
	Selects(e eventstore.Event) bool
}

// eventTypes returns the set of the types of events.
func eventTypes(events ...domain.Event) map[string]bool {
	set := make(map[string]bool, len(events))
	for _, e := range events {
		set[e.EventType()] = true
	}
	return set
}

// selects reports whether the Runner must apply e to p.
func selects(p Projection, e eventstore.Event) bool {
	s, ok := p.(Selective)
	return !ok || s.Selects(e)
}

// rebuildSuffix names the tables a rebuild fills before the swap.
const rebuildSuffix = "_rebuild"

// Buffered is a Projection that, in a rebuild, may hold its writes back
// across events and batches, in memory it bounds itself, and write them
// when Flush is called: a row that every event of a stream rewrites is
// then written a few times, not once per event. The live tables are never
// written this way: there each event's transaction holds all it changes.
type Buffered interface {
	Projection

	// Flush writes, within tx, everything Apply held back for the tables
	// of suffix. A rebuild calls it once the last event is applied,
	// before the tables take the live ones' place.
	Flush(ctx context.Context, tx pgx.Tx, suffix string) error

	// Discard forgets everything held back for the tables of suffix. A
	// rebuild calls it as it starts, so that nothing a failed one left
	// reaches the new tables.
	Discard(suffix string)
}

// State is where a projection stands.
type State string

// The states of a projection, as Status reports them. A projection with
// no checkpoint yet has the state "".
const (
	// StateRunning: it follows the log.
	StateRunning State = "running"
	// StateFailed: an event kept failing; the projection stopped at the
	// event before it, until a Runner starts it again.
	StateFailed State = "failed"
	// StateRebuilding: a rebuild is replaying the log into new tables;
	// the live tables still serve queries and still follow the log.
	StateRebuilding State = "rebuilding"
	// StateCatchingUp: started by this process's Runner and not yet
	// at the position the log's head held when it started. Only the
	// Runner that runs it reports it (Failures, the metrics); the
	// database knows it as running.
	StateCatchingUp State = "catching_up"
)

var (
	// ErrFailed is returned by Ready and WaitFor when a projection has
	// failed. Test with errors.Is.
	ErrFailed = errors.New("projection failed")

	// ErrUnknownProjection is returned by Rebuild for a name no
	// projection of the Runner has. Test with errors.Is.
	ErrUnknownProjection = errors.New("unknown projection")

	// ErrRebuildRunning is returned by Rebuild while another rebuild of
	// the same projection runs, in any process. Test with errors.Is.
	ErrRebuildRunning = errors.New("rebuild already running")
)

// ApplyError is the failure of a projection on one event. Its message
// names the projection, the event's position and type, and the kind of
// error; it never quotes event data, so it may be logged and stored. The
// cause, which Unwrap returns, may quote data: never log its message.
type ApplyError struct {
	Projection string
	Position   uint64
	EventType  string
	// Reason is the kind of error, for example "SQLSTATE 23505 on
	// students, students_pkey" or "panic".
	Reason string

	err error
}

func newApplyError(projection string, e eventstore.Event, err error) *ApplyError {
	return &ApplyError{
		Projection: projection,
		Position:   e.Position,
		EventType:  e.Type,
		Reason:     reasonOf(err),
		err:        err,
	}
}

// asApplyError returns err as the failure of e, unless it is the failure
// of an event already, found when deferred statements were sent.
func asApplyError(projection string, e eventstore.Event, err error) *ApplyError {
	var applyErr *ApplyError
	if errors.As(err, &applyErr) {
		return applyErr
	}
	return newApplyError(projection, e, err)
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("projection %s: %s at position %d: %s",
		e.Projection, e.EventType, e.Position, e.Reason)
}

// Unwrap returns the cause.
func (e *ApplyError) Unwrap() error { return e.err }

// reasonOf names the kind of err with identifiers and codes only: the
// message of a Postgres or JSON error may quote a value of the event.
func reasonOf(err error) string {
	var (
		panicked middleware.RecoveredPanicError
		replayed errPanic
		pgErr    *pgconn.PgError
		syntax   *json.SyntaxError
		badType  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &panicked), errors.As(err, &replayed):
		return "panic"
	case errors.As(err, &pgErr):
		return pgReason(pgErr)
	case errors.Is(err, domain.ErrUnknownSchemaVersion):
		return "unknown schema version"
	case errors.As(err, &syntax), errors.As(err, &badType):
		return "malformed event data"
	case transient(err):
		return "database unavailable"
	}
	return "apply failed"
}

// pgReason names a Postgres error by its code and the objects it names.
func pgReason(e *pgconn.PgError) string {
	var on []string
	for _, name := range []string{e.TableName, e.ConstraintName, e.ColumnName} {
		if name != "" {
			on = append(on, name)
		}
	}
	if len(on) == 0 {
		return "SQLSTATE " + e.Code
	}
	return "SQLSTATE " + e.Code + " on " + strings.Join(on, ", ")
}

// transient reports whether err is the database's fault rather than the
// event's: a lost connection, a server shutting down or short of
// resources, a deadlock. Such an error does not stop a projection; its
// event is delivered again until the database is back.
func transient(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		class := pgErr.Code[:min(2, len(pgErr.Code))]
		return class == "08" || class == "40" || class == "53" || class == "57"
	}
	return postgres.Disconnected(err)
}

// splitTable returns the schema and the name of a qualified table name.
func splitTable(table string) (schema, name string, err error) {
	schema, name, ok := strings.Cut(table, ".")
	if !ok || schema == "" || name == "" || strings.Contains(name, ".") {
		return "", "", fmt.Errorf("table %q: not qualified as schema.name", table)
	}
	return schema, name, nil
}

// tableIdent returns table, with suffix added to its name, quoted for SQL.
func tableIdent(table, suffix string) string {
	schema, name, _ := splitTable(table)
	return pgx.Identifier{schema, name + suffix}.Sanitize()
}
