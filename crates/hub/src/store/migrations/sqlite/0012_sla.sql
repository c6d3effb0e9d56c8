-- Response-time targets: each team's policy (inboxes keep theirs in their settings), each
-- conversation's due times and where it stands, when it was first answered, and every
-- target met or missed.

ALTER TABLE teams ADD COLUMN sla TEXT;

ALTER TABLE conversations ADD COLUMN first_response_due_at INTEGER;
ALTER TABLE conversations ADD COLUMN next_response_due_at INTEGER;
ALTER TABLE conversations ADD COLUMN resolution_due_at INTEGER;
ALTER TABLE conversations ADD COLUMN first_replied_at INTEGER;
-- The earliest of the three due times, and when it is at risk: what the sweep looks for.
ALTER TABLE conversations ADD COLUMN sla_next_due INTEGER;
ALTER TABLE conversations ADD COLUMN sla_warn_at INTEGER;
ALTER TABLE conversations ADD COLUMN sla_state TEXT NOT NULL DEFAULT 'ok';
CREATE INDEX conversations_sla_warn ON conversations (sla_warn_at) WHERE sla_warn_at IS NOT NULL;

-- One row per target a conversation had: when it was due, when it was met (null while it
-- runs or if it was missed), and whether it was missed.
CREATE TABLE sla_events (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    team_id         INTEGER NOT NULL,
    target          TEXT NOT NULL CHECK (target IN ('first_response', 'next_response', 'resolution')),
    due_at          INTEGER NOT NULL,
    met_at          INTEGER,
    breached        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX sla_events_team ON sla_events (team_id, due_at);
