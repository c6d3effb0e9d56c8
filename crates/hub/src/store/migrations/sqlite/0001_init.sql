-- The whole workspace: people, channels, customers, conversations and the change feed.

CREATE TABLE feed_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,   -- the last change committed
    floor INTEGER NOT NULL    -- changes at or below this were pruned
);
INSERT INTO feed_head (id, seq, floor) VALUES (1, 0, 0);

CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    entity_id    INTEGER NOT NULL,
    team_id      INTEGER,
    prev_team_id INTEGER,
    agent_id     INTEGER,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('agent', 'lead', 'admin')),
    password_hash TEXT NOT NULL,
    capacity      INTEGER NOT NULL DEFAULT 10,
    presence      TEXT NOT NULL DEFAULT 'offline',
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id  INTEGER NOT NULL REFERENCES teams (id),
    agent_id INTEGER NOT NULL REFERENCES agents (id),
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent ON team_members (agent_id);

CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents (id),
    secret_hash TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE inboxes (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    team_id    INTEGER NOT NULL REFERENCES teams (id),
    address    TEXT NOT NULL,
    settings   TEXT NOT NULL DEFAULT '{}',
    version    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (kind, address)
);

CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    profile     TEXT NOT NULL DEFAULT '{}',
    crm         TEXT,
    merged_into INTEGER REFERENCES contacts (id),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE identities (
    id           INTEGER PRIMARY KEY,
    contact_id   INTEGER NOT NULL REFERENCES contacts (id),
    channel      TEXT NOT NULL,
    address_kind TEXT NOT NULL,
    address      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (channel, address)
);
CREATE INDEX identities_address ON identities (address_kind, address);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE conversations (
    id                      INTEGER PRIMARY KEY,
    contact_id              INTEGER NOT NULL REFERENCES contacts (id),
    inbox_id                INTEGER NOT NULL REFERENCES inboxes (id),
    channel                 TEXT NOT NULL,
    team_id                 INTEGER NOT NULL REFERENCES teams (id),
    assignee_id             INTEGER REFERENCES agents (id),
    status                  TEXT NOT NULL,
    snoozed_until           INTEGER,
    waiting_since           INTEGER,
    last_activity_at        INTEGER NOT NULL,
    reply_window_expires_at INTEGER,
    preview                 TEXT NOT NULL DEFAULT '',
    updated_by              INTEGER,
    version                 INTEGER NOT NULL DEFAULT 1,
    created_at              INTEGER NOT NULL
);
CREATE INDEX conversations_contact ON conversations (contact_id, inbox_id, status);
CREATE INDEX conversations_team ON conversations (team_id);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    inbox_id        INTEGER NOT NULL,
    channel         TEXT NOT NULL,
    direction       TEXT NOT NULL,
    author_agent_id INTEGER,
    body            TEXT NOT NULL,
    attachments     TEXT NOT NULL DEFAULT '[]',
    provider_id     TEXT,
    client_msg_id   TEXT UNIQUE,
    delivery        TEXT,
    delivery_error  TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    UNIQUE (inbox_id, provider_id)
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

CREATE TABLE read_markers (
    agent_id             INTEGER NOT NULL,
    conversation_id      INTEGER NOT NULL,
    last_read_message_id INTEGER NOT NULL,
    at                   INTEGER NOT NULL,
    PRIMARY KEY (agent_id, conversation_id)
);

CREATE TABLE clients (
    client_id        TEXT PRIMARY KEY,
    agent_id         INTEGER NOT NULL REFERENCES agents (id),
    last_mutation_id INTEGER NOT NULL,
    last_result      TEXT,
    updated_at       INTEGER NOT NULL
);
