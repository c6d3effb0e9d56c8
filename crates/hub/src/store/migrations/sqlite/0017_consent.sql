-- Consent records: every grant and withdrawal per address and purpose, newest last. The
-- latest per (channel, address, purpose) is what holds; a withdrawn `service` is also
-- kept in opt_outs, which every send checks.

CREATE TABLE consents (
    id        INTEGER PRIMARY KEY,
    channel   TEXT NOT NULL,
    address   TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    granted   INTEGER NOT NULL,
    source    TEXT NOT NULL,
    evidence  TEXT NOT NULL,
    reason    TEXT,
    agent_id  INTEGER,
    at        INTEGER NOT NULL
);

CREATE INDEX consents_by_address ON consents (channel, address, purpose, id);
