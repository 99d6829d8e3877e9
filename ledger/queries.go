package ledger

// The ledger's SQL. The tables are made by migrations/004_ledger.sql.
const (
	sizeSQL = `SELECT coalesce(max(leaf) + 1, 0) FROM ledger_leaves`

	lastLeafSQL = `SELECT leaf, position, event_id, stream, revision, event_hash
		FROM ledger_leaves ORDER BY leaf DESC LIMIT 1`

	leafByEventSQL = `SELECT leaf, position, event_id, stream, revision, event_hash
		FROM ledger_leaves WHERE event_id = $1`

	leafByPositionSQL = `SELECT leaf, position, event_id, stream, revision, event_hash
		FROM ledger_leaves WHERE position = $1`

	leavesSQL = `SELECT leaf, position, event_id, stream, revision, event_hash
		FROM ledger_leaves WHERE leaf >= $1 ORDER BY leaf LIMIT $2`

	hashesSQL = `SELECT idx, hash FROM ledger_hashes WHERE idx = ANY($1)`

	insertCheckpointSQL = `INSERT INTO ledger_checkpoints (size, root, note, signed_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING`

	checkpointColumns = `size, root, note, signed_at`

	latestCheckpointSQL = `SELECT ` + checkpointColumns + ` FROM ledger_checkpoints
		ORDER BY size DESC LIMIT 1`

	// coveringCheckpointSQL finds the smallest checkpoint whose tree holds
	// a given number of leaves.
	coveringCheckpointSQL = `SELECT ` + checkpointColumns + ` FROM ledger_checkpoints
		WHERE size >= $1 ORDER BY size LIMIT 1`

	checkpointAtSQL = `SELECT ` + checkpointColumns + ` FROM ledger_checkpoints WHERE size = $1`

	// sealerLockKey is the advisory lock the one sealer of a database
	// holds: "ledger" in ASCII.
	sealerLockKey = 0x6c6564676572

	tryLockSQL = `SELECT pg_try_advisory_lock($1)`
	unlockSQL  = `SELECT pg_advisory_unlock($1)`
)
