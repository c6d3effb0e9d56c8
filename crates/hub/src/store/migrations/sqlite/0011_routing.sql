-- Presence, routing and the queue: what routing matches agents by, when each console was
-- last seen, each team's and inbox's policy, each conversation's priority and place in the
-- queue, who held each conversation when, and each agent's presence over time.

ALTER TABLE agents ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN routing_paused INTEGER NOT NULL DEFAULT 0;
-- The last moment one of the agent's console streams was open.
ALTER TABLE agents ADD COLUMN last_seen_at INTEGER;
-- When routing last gave the agent a conversation (round robin takes the longest ago).
ALTER TABLE agents ADD COLUMN last_routed_at INTEGER NOT NULL DEFAULT 0;

ALTER TABLE teams ADD COLUMN routing TEXT NOT NULL DEFAULT '{}';

-- 0 urgent, 1 high, 2 normal, 3 low: the queue serves the smallest first.
ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
-- The agent it was taken back from; the next routing passes them over.
ALTER TABLE conversations ADD COLUMN returned_from INTEGER;
CREATE INDEX conversations_queue ON conversations (priority, queued_at, id) WHERE queued_at IS NOT NULL;
CREATE INDEX conversations_open_assignee ON conversations (assignee_id) WHERE status = 'open';
-- Held conversations whose customer waits, for the sweep that moves the silent ones on.
CREATE INDEX conversations_held_waiting ON conversations (waiting_since) WHERE status = 'open' AND assignee_id IS NOT NULL;

-- Who held each conversation, from when to when; `by_agent_id` is null when routing gave it.
CREATE TABLE assignments (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    agent_id        INTEGER NOT NULL REFERENCES agents (id),
    team_id         INTEGER NOT NULL,
    by_agent_id     INTEGER,
    started_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT
);
CREATE INDEX assignments_held ON assignments (conversation_id) WHERE ended_at IS NULL;
CREATE INDEX assignments_agent ON assignments (agent_id, started_at);

-- Each presence an agent had, from when to when.
CREATE TABLE presence_log (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id),
    presence   TEXT NOT NULL,
    automatic  INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER
);
CREATE INDEX presence_log_agent ON presence_log (agent_id, started_at);

-- One row whose lock makes routing passes take turns, across every hub on the database.
CREATE TABLE routing_head (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    passes INTEGER NOT NULL
);
INSERT INTO routing_head (id, passes) VALUES (1, 0);
