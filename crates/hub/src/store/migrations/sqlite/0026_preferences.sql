-- Each agent's own notification preferences (JSON), synced to their consoles; an agent
-- without a row has the defaults.
CREATE TABLE agent_preferences (
    agent_id    INTEGER PRIMARY KEY REFERENCES agents(id),
    preferences TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
