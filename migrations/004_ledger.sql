-- The ledger: an RFC 6962 Merkle tree whose leaves are the log's event
-- hashes in position order, and the signed checkpoints of its root.
-- docs/ledger.md describes every table. Like the log, the ledger is only
-- ever appended to: the service's role may read and insert, and triggers
-- refuse UPDATE, DELETE and TRUNCATE for everyone.

-- One row per leaf: which event it is. leaf is the index in the tree, from
-- 0; position, stream and revision name the event the leaf was made from,
-- so that verify can say which event a changed log no longer holds.
CREATE TABLE ledger_leaves (
    leaf       bigint NOT NULL,
    position   bigint NOT NULL,
    event_id   uuid   NOT NULL,
    stream     text   NOT NULL,
    revision   bigint NOT NULL,
    event_hash bytea  NOT NULL,
    CONSTRAINT ledger_leaves_pkey PRIMARY KEY (leaf),
    CONSTRAINT ledger_leaves_position_key UNIQUE (position),
    CONSTRAINT ledger_leaves_event_id_key UNIQUE (event_id),
    CONSTRAINT ledger_leaves_check CHECK (leaf >= 0 AND octet_length(event_hash) = 32)
);

-- The tree's hashes, stored as golang.org/x/mod/sumdb/tlog lays them out:
-- idx is tlog's stored-hash index, a function of the level and the place
-- in that level.
CREATE TABLE ledger_hashes (
    idx  bigint NOT NULL,
    hash bytea  NOT NULL,
    CONSTRAINT ledger_hashes_pkey PRIMARY KEY (idx),
    CONSTRAINT ledger_hashes_check CHECK (idx >= 0 AND octet_length(hash) = 32)
);

-- Every signed checkpoint: a C2SP tlog-checkpoint signed note over the
-- tree of the first size leaves.
CREATE TABLE ledger_checkpoints (
    size      bigint      NOT NULL,
    root      bytea       NOT NULL,
    note      text        NOT NULL,
    signed_at timestamptz NOT NULL,
    CONSTRAINT ledger_checkpoints_pkey PRIMARY KEY (size),
    CONSTRAINT ledger_checkpoints_check CHECK (size > 0 AND octet_length(root) = 32)
);

CREATE FUNCTION ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER ledger_leaves_append_only BEFORE UPDATE OR DELETE ON ledger_leaves
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_leaves_no_truncate BEFORE TRUNCATE ON ledger_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_hashes_append_only BEFORE UPDATE OR DELETE ON ledger_hashes
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_hashes_no_truncate BEFORE TRUNCATE ON ledger_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only();

REVOKE ALL ON ledger_leaves, ledger_hashes, ledger_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON ledger_leaves, ledger_hashes, ledger_checkpoints TO whitecross_app;
