-- The queue: each conversation's priority (0 urgent … 3 low), since when it has waited in
-- its team's queue (so rows can show their place in it), and where it stands against its
-- response-time targets (the At risk view, the countdown on each row), and the customer's
-- satisfaction score.

ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
CREATE INDEX conversations_queue ON conversations (team_id, priority, queued_at, id) WHERE queued_at IS NOT NULL;
ALTER TABLE conversations ADD COLUMN sla_state TEXT NOT NULL DEFAULT 'ok';
ALTER TABLE conversations ADD COLUMN sla_due_at INTEGER;
CREATE INDEX conversations_at_risk ON conversations (sla_due_at) WHERE sla_state <> 'ok';
ALTER TABLE conversations ADD COLUMN csat_score INTEGER;

-- Conversations already cached lack both: sync again, rewriting every conversation.
UPDATE conversations SET version = 0;
DELETE FROM meta WHERE key = 'cursor';
