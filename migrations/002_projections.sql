-- Read models: the tables the projections build from the event log, and
-- each projection's checkpoint. Read models are disposable: any of them can
-- be dropped and rebuilt from the log, so the service's role owns them. It
-- still may only read and append to the log itself.

-- One row per projection: the position of the last event it applied. A
-- projection applies an event and advances its row in one transaction, and
-- locks the row while it does, so that a rebuild can pause it by locking
-- the row too.
CREATE TABLE projection_checkpoints (
    name       text        NOT NULL,
    position   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    state      text        NOT NULL DEFAULT 'running',
    -- last_error names an event by position and type and says what kind of
    -- error it met; it never quotes event data.
    last_error text,
    CONSTRAINT projection_checkpoints_pkey PRIMARY KEY (name),
    CONSTRAINT projection_checkpoints_position_check CHECK (position >= 0),
    CONSTRAINT projection_checkpoints_state_check
        CHECK (state IN ('running', 'failed', 'rebuilding'))
);

REVOKE ALL ON projection_checkpoints FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON projection_checkpoints TO whitecross_app;

-- The read models' tables live in their own schema, where the service's
-- role may create and drop tables (a rebuild builds new tables beside the
-- live ones and swaps them in). Nothing in this schema is a record: the
-- event log is.
CREATE SCHEMA readmodel;
REVOKE ALL ON SCHEMA readmodel FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA readmodel TO whitecross_app;
