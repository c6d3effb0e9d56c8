-- Agents' open conversations, the unassigned left out: what a routing pass counts each
-- agent's load through. With the unassigned in it, the index is larger than
-- `conversations_held_waiting`, and a planner without statistics (a new database) counts
-- through that one instead, reading every held conversation for each agent.
DROP INDEX conversations_open_assignee;
CREATE INDEX conversations_open_assignee ON conversations (assignee_id) WHERE status = 'open' AND assignee_id IS NOT NULL;
