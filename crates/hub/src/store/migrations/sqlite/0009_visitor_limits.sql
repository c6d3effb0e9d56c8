-- Visitors an agent blocked, and the client address each visitor last came from; client
-- addresses blocked from starting chats on an inbox, until a time.
ALTER TABLE visitors ADD COLUMN blocked_at INTEGER;
ALTER TABLE visitors ADD COLUMN client TEXT;
CREATE INDEX visitors_seen ON visitors (last_seen_at);

CREATE TABLE blocked_clients (
    inbox_id INTEGER NOT NULL REFERENCES inboxes (id),
    client   TEXT NOT NULL,
    until    INTEGER NOT NULL,
    PRIMARY KEY (inbox_id, client)
);

-- Whose thread a conversation is, looked up by inbox and address (visitors' pruning).
CREATE INDEX conversations_inbox_address ON conversations (inbox_id, customer_address);
