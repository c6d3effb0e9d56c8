-- Campaigns: one template sent to an audience from one inbox. Each recipient is a row:
-- `queued`, `claimed` by the hub holding the inbox's lease, `sending` (committed just
-- before its provider is called, so it is called at most once whichever hub claims it),
-- then `sent`, `failed` or `skipped`, its result kept on the row. A sender's lease names the one
-- hub that sends for an inbox, so its rate holds across hubs. Segments are saved filters.

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    inbox_id      INTEGER NOT NULL,
    template      TEXT NOT NULL,
    subject       TEXT,
    purpose       TEXT NOT NULL,
    state         TEXT NOT NULL,
    audience_kind TEXT NOT NULL,
    audience      TEXT NOT NULL,
    scheduled_at  INTEGER,
    allowed_from  INTEGER,
    allowed_to    INTEGER,
    time_zone     TEXT NOT NULL,
    cap_messages  INTEGER NOT NULL,
    cap_days      INTEGER NOT NULL,
    created_by    INTEGER,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER
);

CREATE INDEX campaigns_by_state ON campaigns (state, scheduled_at);

CREATE TABLE campaign_recipients (
    campaign_id           INTEGER NOT NULL,
    row_no                INTEGER NOT NULL,
    inbox_id              INTEGER NOT NULL,
    address               TEXT NOT NULL,
    name                  TEXT NOT NULL,
    params                TEXT NOT NULL,
    time_zone             TEXT,
    state                 TEXT NOT NULL,
    next_at               INTEGER NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    claimed_by            TEXT,
    reason                TEXT,
    contact_id            INTEGER,
    provider_id           TEXT,
    delivery              TEXT,
    sent_at               INTEGER,
    replied_at            INTEGER,
    reply_conversation_id INTEGER,
    PRIMARY KEY (campaign_id, row_no)
);

CREATE UNIQUE INDEX campaign_recipients_once ON campaign_recipients (campaign_id, address);
CREATE INDEX campaign_recipients_due ON campaign_recipients (campaign_id, state, next_at, row_no);
CREATE INDEX campaign_recipients_to_address ON campaign_recipients (address, sent_at);
CREATE INDEX campaign_recipients_to_contact ON campaign_recipients (contact_id, sent_at);
CREATE INDEX campaign_recipients_provider ON campaign_recipients (inbox_id, provider_id);

CREATE TABLE sender_leases (
    inbox_id INTEGER PRIMARY KEY,
    holder   TEXT NOT NULL,
    until    INTEGER NOT NULL
);

CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    filter     TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL
);
