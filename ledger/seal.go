package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/eventstore"
)

// ErrTampered stops sealing at an event whose stored hash or digest is not
// what its stored bytes hash to: the ledger never seals an event it cannot
// vouch for. Test with errors.Is.
var ErrTampered = errors.New("event does not match its hash")

// checkEvent recomputes e's digest (when its payload is present) and hash
// from the stored bytes.
func checkEvent(e *eventstore.Event) error {
	if e.Data != nil && eventstore.DigestData(e.DataSalt, e.Data) != e.DataDigest {
		return fmt.Errorf("position %d (stream %s revision %d): data: %w",
			e.Position, e.Stream, e.Revision, ErrTampered)
	}
	if eventstore.ComputeHash(e) != e.Hash {
		return fmt.Errorf("position %d (stream %s revision %d): %w",
			e.Position, e.Stream, e.Revision, ErrTampered)
	}
	return nil
}

// loadFrontier reads the tree's size and the hashes of its frontier.
func (t *Tree) loadFrontier(ctx context.Context) (*frontier, uint64, error) {
	rows, err := t.pool.Query(ctx, lastLeafSQL)
	if err != nil {
		return nil, 0, fmt.Errorf("ledger: %w", err)
	}
	last, err := scanLeaves(rows)
	if err != nil {
		return nil, 0, err
	}
	f := newFrontier()
	if len(last) == 0 {
		return f, 0, nil
	}
	f.n = last[0].Index + 1
	idx := frontierIndexes(f.n)
	hashes, err := readHashes(ctx, t.pool, idx)
	if err != nil {
		return nil, 0, err
	}
	for i, h := range hashes {
		f.hashes[idx[i]] = h
	}
	return f, last[0].Position, nil
}

// appendLeaves adds events, checked and in position order, to the tree
// whose frontier is f, in one transaction, and advances f. When the
// transaction fails f is left as it was.
func (t *Tree) appendLeaves(ctx context.Context, f *frontier, events []eventstore.Event) error {
	next := &frontier{n: f.n, hashes: make(map[int64]tlog.Hash, len(f.hashes))}
	for k, v := range f.hashes {
		next.hashes[k] = v
	}
	leaves := make([][]any, len(events))
	var hashes [][]any
	for i := range events {
		e := &events[i]
		first := tlog.StoredHashIndex(0, next.n)
		stored, err := next.add(LeafHash(e.Hash))
		if err != nil {
			return err
		}
		leaves[i] = []any{next.n - 1, int64(e.Position), e.ID, e.Stream, int64(e.Revision), e.Hash[:]}
		for j, h := range stored {
			hashes = append(hashes, []any{first + int64(j), h[:]})
		}
	}
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_leaves"},
			[]string{"leaf", "position", "event_id", "stream", "revision", "event_hash"},
			pgx.CopyFromRows(leaves)); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"ledger_hashes"}, []string{"idx", "hash"},
			pgx.CopyFromRows(hashes))
		return err
	})
	if err != nil {
		return fmt.Errorf("ledger: seal leaves %d to %d: %w", f.n, next.n-1, err)
	}
	*f = *next
	return nil
}

// saveCheckpoint keeps c; a checkpoint of that size already kept stays.
func (t *Tree) saveCheckpoint(ctx context.Context, c Checkpoint, at time.Time) error {
	_, err := t.pool.Exec(ctx, insertCheckpointSQL, c.Size, c.Root[:], string(c.Note), at)
	if err != nil {
		return fmt.Errorf("ledger: keep checkpoint %d: %w", c.Size, err)
	}
	return nil
}
