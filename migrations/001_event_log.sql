-- The event log: append-only and hash-chained. docs/event-log.md describes
-- every column and how the hashes are computed.

CREATE TABLE events (
    position       bigint      NOT NULL,
    event_id       uuid        NOT NULL,
    stream         text        NOT NULL,
    revision       bigint      NOT NULL,
    type           text        NOT NULL,
    schema_version integer     NOT NULL,
    recorded_at    timestamptz NOT NULL,
    metadata       bytea       NOT NULL,
    data           bytea,
    data_salt      bytea,
    data_digest    bytea       NOT NULL,
    prev_hash      bytea       NOT NULL,
    hash           bytea       NOT NULL,
    CONSTRAINT events_pkey PRIMARY KEY (position),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_revision_key UNIQUE (stream, revision),
    CONSTRAINT events_position_check CHECK (position > 0 AND revision >= 0)
);

COMMENT ON TABLE events IS
    'White Cross event log: append-only, hash-chained per stream. Never update or delete.';

-- Nothing in the log is ever changed or removed: not by the service, not by
-- an administrator who forgets. A superuser can still disable these
-- triggers; whitecross verify and signed checkpoints catch what follows.
CREATE FUNCTION events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on events is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_append_only();

-- The service's role: it may read the log and append to it, nothing else.
-- Roles belong to the whole cluster, so another database may have made it.
DO $$
BEGIN
    CREATE ROLE whitecross_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

REVOKE ALL ON events FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO whitecross_app;
GRANT SELECT, INSERT ON events TO whitecross_app;
GRANT SELECT ON schema_version TO whitecross_app;
