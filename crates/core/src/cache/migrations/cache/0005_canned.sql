-- Canned responses, synced from the hub like everything else: the shared ones and the
-- agent's own. Edits not yet confirmed stay in the outbox and are laid over these rows.

CREATE TABLE canned_responses (
    id       INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL,
    key      TEXT NOT NULL UNIQUE,
    shortcut TEXT NOT NULL,
    json     TEXT NOT NULL
);
