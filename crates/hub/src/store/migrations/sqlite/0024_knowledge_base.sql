-- The knowledge base, and bots that answer first.
--
-- articles: one row per article (its key is its address and its file name);
-- article_versions: every saved version, for the history; article_search: an FTS5 index
-- with no content of its own, holding each article's terms stemmed in its language
-- (switchboard_protocol::articles::index_text), its rowid the article's id.

CREATE TABLE articles (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    tags            TEXT NOT NULL DEFAULT '[]',
    locale          TEXT NOT NULL,
    collection      TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    updated_by      INTEGER,
    updated_client  TEXT,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE article_versions (
    article_id  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    tags        TEXT NOT NULL,
    locale      TEXT NOT NULL,
    collection  TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_by  INTEGER,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE VIRTUAL TABLE article_search USING fts5(
    title, tags, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

-- How articles were used: read in the help centre (view), said to help or not
-- (helpful, not_helpful), answered with by the bot (offered), or answered a visitor's
-- question in the widget (deflected).
CREATE TABLE article_events (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('view', 'helpful', 'not_helpful', 'offered', 'deflected')),
    team_id     INTEGER,
    at          INTEGER NOT NULL
);
CREATE INDEX article_events_at ON article_events (at);
-- A visitor's deflection counts once per article.
CREATE TABLE deflections (
    visitor_id  INTEGER NOT NULL,
    article_id  INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (visitor_id, article_id)
);

-- A bot's hold on a conversation, from the customer's first message until the bot
-- resolves it (contained) or hands it to people (handed_off, with the reason).
-- awaiting_since: a customer message an external bot or the model has not answered yet.
CREATE TABLE bot_sessions (
    conversation_id  INTEGER PRIMARY KEY,
    inbox_id         INTEGER NOT NULL,
    team_id          INTEGER NOT NULL,
    mode             TEXT NOT NULL,
    bot_name         TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('active', 'contained', 'handed_off')),
    turns            INTEGER NOT NULL DEFAULT 0,
    asked            TEXT NOT NULL DEFAULT '',
    offered          TEXT NOT NULL DEFAULT '[]',
    asked_feedback   INTEGER NOT NULL DEFAULT 0,
    reason           TEXT,
    awaiting_since   INTEGER,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER
);
CREATE INDEX bot_sessions_awaiting ON bot_sessions (awaiting_since) WHERE awaiting_since IS NOT NULL;
CREATE INDEX bot_sessions_started ON bot_sessions (started_at);

-- Customer messages for an external bot or the model, each claimed by one hub.
CREATE TABLE bot_calls (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL,
    message_id       INTEGER NOT NULL UNIQUE,
    state            TEXT NOT NULL CHECK (state IN ('due', 'calling', 'done')),
    claimed_at       INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX bot_calls_due ON bot_calls (state, id);

-- The bot that wrote a line (its name), and what a key may do: send notifications, or
-- answer as an inbox's bot.
ALTER TABLE messages ADD COLUMN bot TEXT;
ALTER TABLE api_keys ADD COLUMN scope TEXT NOT NULL DEFAULT 'notify';
