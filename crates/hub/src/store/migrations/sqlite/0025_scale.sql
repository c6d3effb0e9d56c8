-- The request a reply was sent in, so its delivery is logged under the same request id.
ALTER TABLE outbox ADD COLUMN request_id TEXT;

-- Rate limits every hub on the database shares: the hits counted for a key in one fixed
-- window. Rows of windows long past are pruned by the hubs' chores.
CREATE TABLE rate_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_by_start ON rate_windows (window_start);

-- Each CRM's pace, shared by every hub's CRM worker: the earliest the next call may start,
-- and until when a 429's Retry-After holds every call.
CREATE TABLE crm_pace (
    crm        TEXT PRIMARY KEY,
    next_at    INTEGER NOT NULL,
    held_until INTEGER NOT NULL
);
