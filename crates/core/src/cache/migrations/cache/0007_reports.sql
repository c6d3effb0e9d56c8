-- The lead's reports as the hub last answered them, by query, so they open offline.
CREATE TABLE reports (
    query      TEXT PRIMARY KEY,
    report     TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
);
