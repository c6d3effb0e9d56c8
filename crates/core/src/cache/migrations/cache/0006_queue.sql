-- Routing: each conversation's priority (0 urgent … 3 low) and since when it has waited in
-- its team's queue, so rows can show their place in it.

ALTER TABLE conversations ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
CREATE INDEX conversations_queue ON conversations (team_id, priority, queued_at, id) WHERE queued_at IS NOT NULL;

-- Conversations already cached lack both: sync again, rewriting every conversation.
UPDATE conversations SET version = 0;
DELETE FROM meta WHERE key = 'cursor';
