package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/whitecross/whitecross/eventstore"
)

// scanEvent reads one row of eventColumns. A stored hash of the wrong
// length is copied as far as it goes, so that the verifier, not the reader,
// reports it.
func scanEvent(row pgx.CollectableRow) (eventstore.Event, error) {
	var (
		e                  eventstore.Event
		position, revision int64
	)
	err := row.Scan(&position, (*[16]byte)(&e.ID), &e.Stream, &revision, &e.Type,
		&e.SchemaVersion, &e.RecordedAt, &e.Metadata, &e.Data, &e.DataSalt,
		(*hashScanner)(&e.DataDigest), (*hashScanner)(&e.PrevHash), (*hashScanner)(&e.Hash))
	e.Position, e.Revision = uint64(position), uint64(revision)
	e.RecordedAt = e.RecordedAt.UTC()
	return e, err
}

// hashScanner reads a bytea straight into a Hash, without an allocation.
type hashScanner eventstore.Hash

// ScanBytes implements pgtype.BytesScanner.
func (h *hashScanner) ScanBytes(v []byte) error {
	*h = hashScanner{}
	copy(h[:], v)
	return nil
}

// columns holds a batch of events as one slice per column of insertSQL.
type columns struct {
	position, revision []int64
	id                 [][16]byte
	stream, typ        []string
	schema             []int32
	recordedAt         []time.Time
	metadata, data     [][]byte
	salt, digest       [][]byte
	prev, hash         [][]byte
}

func (c *columns) add(e *eventstore.Event) {
	c.position = append(c.position, int64(e.Position))
	c.id = append(c.id, e.ID)
	c.stream = append(c.stream, e.Stream)
	c.revision = append(c.revision, int64(e.Revision))
	c.typ = append(c.typ, e.Type)
	c.schema = append(c.schema, int32(e.SchemaVersion))
	c.recordedAt = append(c.recordedAt, e.RecordedAt)
	c.metadata = append(c.metadata, e.Metadata)
	c.data = append(c.data, e.Data)
	c.salt = append(c.salt, e.DataSalt)
	c.digest = append(c.digest, e.DataDigest[:])
	c.prev = append(c.prev, e.PrevHash[:])
	c.hash = append(c.hash, e.Hash[:])
}

func (c *columns) len() int { return len(c.position) }

// row returns row i in insertColumns order, for COPY.
func (c *columns) row(i int) ([]any, error) {
	return []any{c.position[i], c.id[i], c.stream[i], c.revision[i], c.typ[i], c.schema[i],
		c.recordedAt[i], c.metadata[i], c.data[i], c.salt[i], c.digest[i], c.prev[i], c.hash[i]}, nil
}

func (c *columns) reset() { *c = columns{} }

// args returns the columns as insertSQL's arguments.
func (c *columns) args() []any {
	return []any{c.position, c.id, c.stream, c.revision, c.typ, c.schema,
		c.recordedAt, c.metadata, c.data, c.salt, c.digest, c.prev, c.hash}
}
