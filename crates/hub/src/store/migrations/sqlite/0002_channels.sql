-- Channels in and out: the customer address of each conversation, the delivery outbox,
-- opt-outs, and template sends.

ALTER TABLE conversations ADD COLUMN customer_address TEXT NOT NULL DEFAULT '';
UPDATE conversations SET customer_address = COALESCE((
    SELECT i.address FROM identities i
    WHERE i.contact_id = conversations.contact_id AND i.channel = conversations.channel
    ORDER BY i.id LIMIT 1), '');
CREATE INDEX conversations_address ON conversations (contact_id, inbox_id, customer_address, status);

-- One row per outbound message to deliver. `sending` is written (and committed) before the
-- provider is called, so after a crash a message is never sent a second time.
CREATE TABLE outbox (
    message_id      INTEGER PRIMARY KEY,
    inbox_id        INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'done')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE opt_outs (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    keyword TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (channel, address)
);

ALTER TABLE messages ADD COLUMN template TEXT;
ALTER TABLE messages ADD COLUMN subject TEXT;

-- Files customers sent that no provider hosts (email attachments), base64-encoded.
CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       INTEGER NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
