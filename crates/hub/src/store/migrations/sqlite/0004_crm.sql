-- CRM: the connector's settings (admins set them; the hub keeps the credentials), lookups
-- waiting to run, and transcripts of resolved conversations to log on the CRM contact.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- When the contact's CRM fields were last looked up, successfully or not.
ALTER TABLE contacts ADD COLUMN crm_checked_at INTEGER;

-- One waiting lookup per contact; a newer request replaces an older one.
CREATE TABLE crm_requests (
    contact_id   INTEGER PRIMARY KEY,
    requested_at INTEGER NOT NULL,
    forced       INTEGER NOT NULL,
    by_address   TEXT,
    not_before   INTEGER NOT NULL,
    claimed_at   INTEGER
);
CREATE INDEX crm_requests_due ON crm_requests (not_before);

-- One transcript per conversation and the last message it covers: resolving again with
-- nothing new adds nothing. `sending` is committed before the CRM is called, so a row found
-- `sending` after a restart is checked against the CRM before it is logged again.
CREATE TABLE crm_transcripts (
    id                 INTEGER PRIMARY KEY,
    conversation_id    INTEGER NOT NULL REFERENCES conversations (id),
    through_message_id INTEGER NOT NULL,
    resolved_at        INTEGER NOT NULL,
    state              TEXT NOT NULL,
    attempts           INTEGER NOT NULL DEFAULT 0,
    next_at            INTEGER NOT NULL,
    claimed_at         INTEGER,
    crm_id             TEXT,
    last_error         TEXT,
    UNIQUE (conversation_id, through_message_id)
);
CREATE INDEX crm_transcripts_due ON crm_transcripts (state, next_at);
