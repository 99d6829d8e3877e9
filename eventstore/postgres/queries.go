package postgres

// The SQL the log runs. Column order matches eventColumns and scanEvent.
const (
	eventColumns = `position, event_id, stream, revision, type, schema_version,
		recorded_at, metadata, data, data_salt, data_digest, prev_hash, hash`

	// writerLockSQL serialises appends across every process on the database,
	// until the transaction ends.
	writerLockSQL = `SELECT pg_advisory_xact_lock($1)`

	lastPositionSQL = `SELECT coalesce(max(position), 0) FROM events`

	// streamHeadsSQL returns the last revision and hash of each stream named.
	streamHeadsSQL = `
		SELECT s.stream, h.revision, h.hash
		FROM unnest($1::text[]) AS s(stream)
		CROSS JOIN LATERAL (
			SELECT revision, hash FROM events e
			WHERE e.stream = s.stream
			ORDER BY revision DESC
			LIMIT 1
		) h`

	findEventsSQL = `SELECT ` + eventColumns + ` FROM events WHERE event_id = ANY($1::uuid[])`

	notifySQL = `SELECT pg_notify($1, '')`

	readForwardSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3`

	readBackwardSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`

	streamExistsSQL = `SELECT EXISTS (SELECT 1 FROM events WHERE stream = $1)`

	readAllSQL = `SELECT ` + eventColumns + ` FROM events
		WHERE position >= $1 ORDER BY position LIMIT $2`
)

// writerLockKey is the advisory lock every appender of the log takes.
const writerLockKey int64 = 0x57_43_45_56_4c_4f_47 // "WCEVLOG"

// insertColumns are the columns of insertSQL, in order, for COPY.
var insertColumns = []string{
	"position", "event_id", "stream", "revision", "type", "schema_version",
	"recorded_at", "metadata", "data", "data_salt", "data_digest", "prev_hash", "hash",
}

// insertSQL appends a batch of rows given as one array per column, so that
// the insert and the COMMIT travel together in one round trip.
const insertSQL = `INSERT INTO events (` + eventColumns + `)
	SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[],
		$6::integer[], $7::timestamptz[], $8::bytea[], $9::bytea[], $10::bytea[],
		$11::bytea[], $12::bytea[], $13::bytea[])`
