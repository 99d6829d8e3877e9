package loadtest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/whitecross/whitecross/projections"
)

// Checker holds a load's answers against the database, read as its
// owner.
type Checker struct{ pool *pgxpool.Pool }

// NewChecker returns a Checker reading through pool.
func NewChecker(pool *pgxpool.Pool) *Checker { return &Checker{pool: pool} }

const (
	eventsByIDSQL = `SELECT event_id::text, position FROM events WHERE event_id = ANY($1::uuid[])`
	blockedSQL    = `SELECT convert_from(data, 'UTF8')::jsonb->>'attempt_id' FROM events
		WHERE type = 'MedicationAdministrationBlocked' AND data IS NOT NULL`
	accessRequestsSQL = `SELECT convert_from(metadata, 'UTF8')::jsonb->>'request_id' FROM events
		WHERE type = 'PHIAccessed'`
	headSQL   = `SELECT coalesce(max(position), 0) FROM events`
	behindSQL = `SELECT count(*) FROM projection_checkpoints WHERE position < $1`
)

// MissingAcks returns the acknowledged events that the log does not hold
// at the position their answer named.
func (c *Checker) MissingAcks(ctx context.Context, acks []Ack) ([]Ack, error) {
	ids := make([]string, len(acks))
	for i, a := range acks {
		ids[i] = a.EventID
	}
	rows, _ := c.pool.Query(ctx, eventsByIDSQL, ids)
	stored := map[string]uint64{}
	var id string
	var position int64
	_, err := pgx.ForEachRow(rows, []any{&id, &position}, func() error {
		stored[id] = uint64(position)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read acknowledged events: %w", err)
	}
	var missing []Ack
	for _, a := range acks {
		if at, ok := stored[a.EventID]; !ok || at != a.Position {
			missing = append(missing, a)
		}
	}
	return missing, nil
}

// MissingBlocked returns the attempts, answered 422, that the log holds
// no MedicationAdministrationBlocked of.
func (c *Checker) MissingBlocked(ctx context.Context, attempts []string) ([]string, error) {
	return c.missing(ctx, blockedSQL, attempts)
}

// MissingAccesses returns the requests, health information answered 200,
// that no PHIAccessed event of the log names as its request.
func (c *Checker) MissingAccesses(ctx context.Context, requestIDs []string) ([]string, error) {
	return c.missing(ctx, accessRequestsSQL, requestIDs)
}

// missing returns the values of want that query does not return.
func (c *Checker) missing(ctx context.Context, query string, want []string) ([]string, error) {
	rows, _ := c.pool.Query(ctx, query)
	found := map[string]bool{}
	var v *string
	_, err := pgx.ForEachRow(rows, []any{&v}, func() error {
		if v != nil {
			found[*v] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the log: %w", err)
	}
	var out []string
	for _, w := range want {
		if !found[w] {
			out = append(out, w)
		}
	}
	return out, nil
}

// Head returns the position of the newest event of the log.
func (c *Checker) Head(ctx context.Context) (uint64, error) {
	var head int64
	err := c.pool.QueryRow(ctx, headSQL).Scan(&head)
	return uint64(head), err
}

// WaitProjections waits, for at most limit, until every projection's
// checkpoint has reached the log's head.
func (c *Checker) WaitProjections(ctx context.Context, limit time.Duration) error {
	head, err := c.Head(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for {
		var behind int
		if err := c.pool.QueryRow(ctx, behindSQL, int64(head)).Scan(&behind); err != nil {
			return err
		}
		if behind == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d projections still behind position %d after %s", behind, head, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ReadModels returns every row of every table of the service's read
// models, as JSON, by table, each table's rows in a stable order.
func (c *Checker) ReadModels(ctx context.Context) (map[string][]string, error) {
	out := map[string][]string{}
	for _, p := range projections.All(nil) {
		for _, table := range p.Tables() {
			ident := pgx.Identifier(strings.Split(table, ".")).Sanitize()
			rows, _ := c.pool.Query(ctx, "SELECT to_jsonb(t)::text FROM "+ident+" t ORDER BY 1")
			values, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, fmt.Errorf("rows of %s: %w", table, err)
			}
			out[table] = values
		}
	}
	return out, nil
}
