package postgres

import (
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
		digest, prev, hash []byte
	)
	err := row.Scan(&position, (*[16]byte)(&e.ID), &e.Stream, &revision, &e.Type,
		&e.SchemaVersion, &e.RecordedAt, &e.Metadata, &e.Data, &e.DataSalt,
		&digest, &prev, &hash)
	if err != nil {
		return e, err
	}
	e.Position, e.Revision = uint64(position), uint64(revision)
	e.RecordedAt = e.RecordedAt.UTC()
	copy(e.DataDigest[:], digest)
	copy(e.PrevHash[:], prev)
	copy(e.Hash[:], hash)
	return e, nil
}

// eventRow returns the values of e in copyColumns order.
func eventRow(e *eventstore.Event) []any {
	return []any{
		int64(e.Position), [16]byte(e.ID), e.Stream, int64(e.Revision), e.Type,
		int32(e.SchemaVersion), e.RecordedAt, e.Metadata, e.Data, e.DataSalt,
		e.DataDigest[:], e.PrevHash[:], e.Hash[:],
	}
}
