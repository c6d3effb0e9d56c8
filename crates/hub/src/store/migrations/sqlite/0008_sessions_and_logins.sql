-- Failed logins, counted in the database so every hub sees the same counters; rows quiet
-- for an hour are pruned.
CREATE TABLE login_failures (
    key      TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_at  INTEGER NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_at);

-- Sessions expire when idle and at an absolute age; each remembers the client it began from.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client TEXT;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_agent ON sessions (agent_id);

-- A disabled agent cannot log in, and their sessions end.
ALTER TABLE agents ADD COLUMN disabled_at INTEGER;

-- What admins did, by whom, from where.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    actor_id INTEGER REFERENCES agents (id),
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    client   TEXT
);
