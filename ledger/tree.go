package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/whitecross/whitecross/eventstore"
)

// ErrNotSealed is returned for an event that is not in the tree yet (or
// not in the log at all), and for a checkpoint that does not exist. Test
// with errors.Is.
var ErrNotSealed = errors.New("not in the ledger yet")

// Tree is the ledger's Merkle tree as Postgres stores it.
type Tree struct {
	pool *pgxpool.Pool
}

// NewTree returns the tree kept in pool's database.
func NewTree(pool *pgxpool.Pool) *Tree { return &Tree{pool: pool} }

// Leaf is one leaf of the tree and the event it was made from.
type Leaf struct {
	Index     int64
	Position  uint64
	EventID   uuid.UUID
	Stream    string
	Revision  uint64
	EventHash eventstore.Hash
}

// Hash returns the leaf's hash in the tree.
func (l Leaf) Hash() tlog.Hash { return LeafHash(l.EventHash) }

// Size returns how many leaves the tree holds.
func (t *Tree) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := t.pool.QueryRow(ctx, sizeSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("ledger size: %w", err)
	}
	return n, nil
}

// LeafOf returns the leaf made from the event id, or ErrNotSealed.
func (t *Tree) LeafOf(ctx context.Context, id uuid.UUID) (Leaf, error) {
	return t.leaf(ctx, leafByEventSQL, id)
}

// LeafAt returns the leaf made from the event at position, or
// ErrNotSealed.
func (t *Tree) LeafAt(ctx context.Context, position uint64) (Leaf, error) {
	return t.leaf(ctx, leafByPositionSQL, int64(position))
}

func (t *Tree) leaf(ctx context.Context, query string, arg any) (Leaf, error) {
	rows, err := t.pool.Query(ctx, query, arg)
	if err != nil {
		return Leaf{}, fmt.Errorf("ledger leaf: %w", err)
	}
	leaves, err := scanLeaves(rows)
	if err != nil {
		return Leaf{}, err
	}
	if len(leaves) == 0 {
		return Leaf{}, ErrNotSealed
	}
	return leaves[0], nil
}

// Leaves returns up to limit leaves from index from on, in order.
func (t *Tree) Leaves(ctx context.Context, from int64, limit int) ([]Leaf, error) {
	rows, err := t.pool.Query(ctx, leavesSQL, from, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger leaves: %w", err)
	}
	return scanLeaves(rows)
}

func scanLeaves(rows pgx.Rows) ([]Leaf, error) {
	var out []Leaf
	var hash []byte
	for rows.Next() {
		var l Leaf
		var pos, rev int64
		if err := rows.Scan(&l.Index, &pos, &l.EventID, &l.Stream, &rev, &hash); err != nil {
			return nil, fmt.Errorf("ledger leaves: %w", err)
		}
		l.Position, l.Revision = uint64(pos), uint64(rev)
		copy(l.EventHash[:], hash)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger leaves: %w", err)
	}
	return out, nil
}

// reader reads stored hashes from the database, for tlog.
func (t *Tree) reader(ctx context.Context) tlog.HashReader {
	return tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		return readHashes(ctx, t.pool, indexes)
	})
}

// querier is what readHashes needs: a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// readHashes returns the stored hashes at indexes, in the order asked.
func readHashes(ctx context.Context, q querier, indexes []int64) ([]tlog.Hash, error) {
	rows, err := q.Query(ctx, hashesSQL, indexes)
	if err != nil {
		return nil, fmt.Errorf("ledger hashes: %w", err)
	}
	found := make(map[int64]tlog.Hash, len(indexes))
	var raw []byte
	var idx int64
	_, err = pgx.ForEachRow(rows, []any{&idx, &raw}, func() error {
		var h tlog.Hash
		copy(h[:], raw)
		found[idx] = h
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger hashes: %w", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		h, ok := found[idx]
		if !ok {
			return nil, fmt.Errorf("ledger hashes: stored hash %d is missing", idx)
		}
		out[i] = h
	}
	return out, nil
}

// Root returns the root hash of the tree's first size leaves.
func (t *Tree) Root(ctx context.Context, size int64) (tlog.Hash, error) {
	if size == 0 {
		return emptyRoot, nil
	}
	return tlog.TreeHash(size, t.reader(ctx))
}

// ProveInclusion returns the RFC 6962 inclusion proof of leaf in the tree
// of its first size leaves.
func (t *Tree) ProveInclusion(ctx context.Context, leaf, size int64) (tlog.RecordProof, error) {
	if leaf < 0 || leaf >= size {
		return nil, fmt.Errorf("ledger: leaf %d is not in a tree of %d leaves", leaf, size)
	}
	return tlog.ProveRecord(size, leaf, t.reader(ctx))
}

// ProveConsistency returns the RFC 6962 consistency proof that the tree of
// older leaves is a prefix of the tree of newer leaves.
func (t *Tree) ProveConsistency(ctx context.Context, older, newer int64) (tlog.TreeProof, error) {
	if older < 1 || older > newer {
		return nil, fmt.Errorf("ledger: no consistency proof from %d to %d leaves", older, newer)
	}
	return tlog.ProveTree(newer, older, t.reader(ctx))
}

// LatestCheckpoint returns the newest checkpoint, or ErrNotSealed when
// none was signed yet.
func (t *Tree) LatestCheckpoint(ctx context.Context) (StoredCheckpoint, error) {
	return t.checkpoint(ctx, latestCheckpointSQL)
}

// CheckpointCovering returns the smallest checkpoint of a tree of at least
// size leaves, or ErrNotSealed.
func (t *Tree) CheckpointCovering(ctx context.Context, size int64) (StoredCheckpoint, error) {
	return t.checkpoint(ctx, coveringCheckpointSQL, size)
}

// CheckpointAt returns the checkpoint of exactly size leaves, or
// ErrNotSealed.
func (t *Tree) CheckpointAt(ctx context.Context, size int64) (StoredCheckpoint, error) {
	return t.checkpoint(ctx, checkpointAtSQL, size)
}

// StoredCheckpoint is a checkpoint as the database keeps it.
type StoredCheckpoint struct {
	Checkpoint
	SignedAt time.Time
}

func (t *Tree) checkpoint(ctx context.Context, query string, args ...any) (StoredCheckpoint, error) {
	var c StoredCheckpoint
	var root []byte
	var text string
	err := t.pool.QueryRow(ctx, query, args...).Scan(&c.Size, &root, &text, &c.SignedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return StoredCheckpoint{}, ErrNotSealed
	}
	if err != nil {
		return StoredCheckpoint{}, fmt.Errorf("ledger checkpoint: %w", err)
	}
	copy(c.Root[:], root)
	c.Note = []byte(text)
	body, _, _ := splitNote(text)
	parsed, err := parseCheckpointText(body)
	if err != nil {
		return StoredCheckpoint{}, err
	}
	c.Origin = parsed.Origin
	return c, nil
}
