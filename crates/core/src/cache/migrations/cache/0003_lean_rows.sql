-- Conversations and messages are read from their columns: drop the JSON copies that every
-- write rewrote, and add the fields views read as columns. Messages are synced again
-- (the cursor is dropped); the outbox and the record of announced messages are kept.

ALTER TABLE conversations DROP COLUMN json;
ALTER TABLE conversations ADD COLUMN customer_address TEXT NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN updated_by INTEGER;

DELETE FROM messages;
DELETE FROM history_start;
ALTER TABLE messages DROP COLUMN json;
ALTER TABLE messages ADD COLUMN author_agent_id INTEGER;
ALTER TABLE messages ADD COLUMN subject TEXT;
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN provider_id TEXT;
ALTER TABLE messages ADD COLUMN delivery TEXT;
ALTER TABLE messages ADD COLUMN delivery_error TEXT;

DELETE FROM meta WHERE key = 'cursor';
