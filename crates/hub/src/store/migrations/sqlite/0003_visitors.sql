-- Web-chat and in-app visitors: one row per browser or device. The token's secret is kept
-- only as its SHA-256 (it is 256 random bits, so a slow hash adds nothing). Visitors with
-- the same `address` (a verified app user on two devices) share one thread.
CREATE TABLE visitors (
    id           INTEGER PRIMARY KEY,
    inbox_id     INTEGER NOT NULL REFERENCES inboxes (id),
    address      TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    email        TEXT,
    name         TEXT,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX visitors_address ON visitors (inbox_id, address);
