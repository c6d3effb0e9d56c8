-- Files the agent attached, kept beside the outbox (in `outbox-files/`) from the moment
-- they are attached until the hub has the reply that sends them: so they survive going
-- offline and a restart. `uploaded_url` is the hub's path once uploaded; `queued` is set
-- when a reply in the outbox names the file.

CREATE TABLE staged (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    queued       INTEGER NOT NULL DEFAULT 0,
    uploaded_url TEXT,
    created_at   INTEGER NOT NULL
);
