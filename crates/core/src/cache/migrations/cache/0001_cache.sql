-- The console's cache of what the agent may see. Disposable: when it cannot be migrated it
-- is deleted and synced again. Each entity keeps its wire JSON beside the columns views use.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE agents (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    name    TEXT NOT NULL,
    json    TEXT NOT NULL
);

CREATE TABLE teams (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    json    TEXT NOT NULL
);

CREATE TABLE inboxes (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    team_id INTEGER NOT NULL,
    json    TEXT NOT NULL
);

CREATE TABLE contacts (
    id      INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    name    TEXT NOT NULL,
    json    TEXT NOT NULL
);

CREATE TABLE conversations (
    id                      INTEGER PRIMARY KEY,
    version                 INTEGER NOT NULL,
    contact_id              INTEGER NOT NULL,
    inbox_id                INTEGER NOT NULL,
    channel                 TEXT NOT NULL,
    status                  TEXT NOT NULL,
    assignee_id             INTEGER,
    team_id                 INTEGER NOT NULL,
    waiting_since           INTEGER,
    last_activity_at        INTEGER NOT NULL,
    snoozed_until           INTEGER,
    reply_window_expires_at INTEGER,
    preview                 TEXT NOT NULL,
    last_message_id         INTEGER NOT NULL DEFAULT 0,
    json                    TEXT NOT NULL
);
CREATE INDEX conversations_assignee ON conversations (assignee_id, status, last_activity_at);
CREATE INDEX conversations_team ON conversations (team_id, status, last_activity_at);
CREATE INDEX conversations_waiting ON conversations (waiting_since) WHERE waiting_since IS NOT NULL;
CREATE INDEX conversations_contact ON conversations (contact_id);
CREATE INDEX conversations_activity ON conversations (status, last_activity_at);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    version         INTEGER NOT NULL,
    conversation_id INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL,
    body            TEXT NOT NULL,
    client_msg_id   TEXT,
    created_at      INTEGER NOT NULL,
    json            TEXT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, created_at, id);
CREATE INDEX messages_client ON messages (client_msg_id) WHERE client_msg_id IS NOT NULL;

-- Full-text index over message bodies, kept by triggers (external content).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body, content = 'messages', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body);
END;

-- How far this agent has read each conversation.
CREATE TABLE read_markers (
    conversation_id      INTEGER PRIMARY KEY,
    last_read_message_id INTEGER NOT NULL
);
