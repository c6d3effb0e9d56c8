-- The notifications API: keys business systems send with (the secret's SHA-256 only), the
-- inboxes each may use, and which key started a conversation.

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    inbox_ids    TEXT NOT NULL,
    created_by   INTEGER,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

ALTER TABLE conversations ADD COLUMN started_by_key INTEGER;
