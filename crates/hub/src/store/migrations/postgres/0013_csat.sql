-- Satisfaction surveys: how many times each conversation was resolved and when last, for
-- which resolution a survey was sent and when, the customer's answer, and which outbound
-- lines are surveys (the widget shows them with buttons).

ALTER TABLE conversations ADD COLUMN resolutions BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN resolved_at BIGINT;
ALTER TABLE conversations ADD COLUMN csat_asked_for BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN csat_asked_at BIGINT;
ALTER TABLE conversations ADD COLUMN csat_score BIGINT;
ALTER TABLE conversations ADD COLUMN csat_at BIGINT;
CREATE INDEX conversations_csat ON conversations (csat_at) WHERE csat_at IS NOT NULL;
CREATE INDEX conversations_resolved ON conversations (resolved_at) WHERE resolved_at IS NOT NULL;

ALTER TABLE messages ADD COLUMN survey BIGINT NOT NULL DEFAULT 0;
