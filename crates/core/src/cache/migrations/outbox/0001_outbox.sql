-- The outbox: what the agent did that the hub has not confirmed. Kept in its own file so
-- that rebuilding the cache never touches it.

CREATE TABLE client (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    client_id        TEXT NOT NULL,
    next_mutation_id INTEGER NOT NULL
);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id     INTEGER NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    envelope        TEXT NOT NULL,
    conversation_id INTEGER,
    client_msg_id   TEXT,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'acknowledged', 'stuck', 'conflict')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    conflict        TEXT,
    acknowledged_at INTEGER,
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_conversation ON outbox (conversation_id);
CREATE INDEX outbox_client_msg ON outbox (client_msg_id) WHERE client_msg_id IS NOT NULL;
