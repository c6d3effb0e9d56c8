-- Files both ways. An agent's or a visitor's upload is kept before the message naming it
-- exists: it belongs to its uploader until a message takes it, and an upload sent again
-- under the same key is the same file. A customer's media that a provider holds is fetched
-- once into the file store (media_fetches lists what is still to fetch). hub_keys holds
-- secrets every hub on the database shares (the key that signs links providers fetch
-- files by).

ALTER TABLE blobs ADD COLUMN uploaded_by BIGINT;
ALTER TABLE blobs ADD COLUMN visitor_id BIGINT;
ALTER TABLE blobs ADD COLUMN upload_key TEXT;
CREATE UNIQUE INDEX blobs_agent_upload ON blobs (uploaded_by, upload_key);
CREATE UNIQUE INDEX blobs_visitor_upload ON blobs (visitor_id, upload_key);
CREATE INDEX blobs_unattached ON blobs (uploaded_by, message_id, created_at);

CREATE TABLE media_fetches (
    message_id    BIGINT PRIMARY KEY,
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT
);
CREATE INDEX media_fetches_due ON media_fetches (next_at);

CREATE TABLE hub_keys (
    name       TEXT PRIMARY KEY,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
