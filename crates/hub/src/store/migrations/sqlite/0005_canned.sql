-- Canned responses: shared ones (no owner; leads keep them) and each agent's own. A key,
-- chosen by the console that made the response, names it in every save and delete. Two
-- shared responses, or two of one agent's, never share a shortcut.
CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    owner_id   INTEGER REFERENCES agents (id),
    shortcut   TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_by INTEGER REFERENCES agents (id),
    updated_at INTEGER NOT NULL,
    version    INTEGER NOT NULL
);
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses (COALESCE(owner_id, 0), shortcut);
