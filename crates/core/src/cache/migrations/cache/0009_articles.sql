-- The knowledge base, synced from the hub like everything else, with a full-text index
-- that has no content of its own: each article's terms stemmed in its language
-- (switchboard_protocol::articles::index_text), its rowid the article's id, so agents
-- search articles offline the way the hub does. And the bot that wrote a line.

CREATE TABLE articles (
    id       INTEGER PRIMARY KEY,
    version  INTEGER NOT NULL,
    key      TEXT NOT NULL UNIQUE,
    status   TEXT NOT NULL,
    locale   TEXT NOT NULL,
    title    TEXT NOT NULL,
    json     TEXT NOT NULL
);

CREATE VIRTUAL TABLE article_search USING fts5(
    title, tags, body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);

ALTER TABLE messages ADD COLUMN bot TEXT;

-- The view tally tells three states apart now (the column keeps its name): 1 open, 2 with
-- a bot, 0 pending, snoozed or resolved. The same table and triggers as before otherwise.

DROP TRIGGER conversations_tally_insert;
DROP TRIGGER conversations_tally_delete;
DROP TRIGGER conversations_tally_update;
DROP TRIGGER read_markers_tally_insert;
DROP TRIGGER read_markers_tally_update;
DROP TRIGGER read_markers_tally_delete;
DROP TABLE view_tally;

CREATE TABLE view_tally (
    open        INTEGER NOT NULL,
    assignee_id INTEGER NOT NULL, -- 0: unassigned
    team_id     INTEGER NOT NULL,
    waiting     INTEGER NOT NULL,
    unread      INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (open, assignee_id, team_id, waiting, unread)
) WITHOUT ROWID;

INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
SELECT (CASE c.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(c.assignee_id, 0), c.team_id, c.waiting_since IS NOT NULL,
       c.last_message_id > COALESCE(r.last_read_message_id, 0), count(*)
FROM conversations c LEFT JOIN read_markers r ON r.conversation_id = c.id
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER conversations_tally_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
    SELECT (CASE NEW.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(NEW.assignee_id, 0), NEW.team_id, NEW.waiting_since IS NOT NULL,
           NEW.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = NEW.id), 0), 1
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER conversations_tally_delete AFTER DELETE ON conversations BEGIN
    UPDATE view_tally SET n = n - 1
    WHERE (open, assignee_id, team_id, waiting, unread) = (
        (CASE OLD.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(OLD.assignee_id, 0), OLD.team_id, OLD.waiting_since IS NOT NULL,
        OLD.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = OLD.id), 0));
END;

CREATE TRIGGER conversations_tally_update AFTER UPDATE OF status, assignee_id, team_id, waiting_since, last_message_id
ON conversations
WHEN ((CASE OLD.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END)) IS NOT ((CASE NEW.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END)) OR OLD.assignee_id IS NOT NEW.assignee_id
    OR OLD.team_id IS NOT NEW.team_id OR (OLD.waiting_since IS NULL) IS NOT (NEW.waiting_since IS NULL)
    OR (OLD.last_message_id IS NOT NEW.last_message_id
        AND (OLD.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = OLD.id), 0))
            IS NOT (NEW.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = OLD.id), 0)))
BEGIN
    UPDATE view_tally SET n = n - 1
    WHERE (open, assignee_id, team_id, waiting, unread) = (
        (CASE OLD.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(OLD.assignee_id, 0), OLD.team_id, OLD.waiting_since IS NOT NULL,
        OLD.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = OLD.id), 0));
    INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
    SELECT (CASE NEW.status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(NEW.assignee_id, 0), NEW.team_id, NEW.waiting_since IS NOT NULL,
           NEW.last_message_id > COALESCE((SELECT last_read_message_id FROM read_markers WHERE conversation_id = NEW.id), 0), 1
    WHERE true
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- A read marker moves its conversation between the unread and read rows (when it is cached).
CREATE TRIGGER read_markers_tally_insert AFTER INSERT ON read_markers BEGIN
    UPDATE view_tally SET n = n - 1
    WHERE (open, assignee_id, team_id, waiting, unread) = (
        SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL, last_message_id > 0
        FROM conversations WHERE id = NEW.conversation_id);
    INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
    SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL,
           last_message_id > NEW.last_read_message_id, 1
    FROM conversations WHERE id = NEW.conversation_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER read_markers_tally_update AFTER UPDATE ON read_markers
WHEN OLD.last_read_message_id IS NOT NEW.last_read_message_id
BEGIN
    UPDATE view_tally SET n = n - 1
    WHERE (open, assignee_id, team_id, waiting, unread) = (
        SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL,
               last_message_id > OLD.last_read_message_id
        FROM conversations WHERE id = OLD.conversation_id);
    INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
    SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL,
           last_message_id > NEW.last_read_message_id, 1
    FROM conversations WHERE id = NEW.conversation_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER read_markers_tally_delete AFTER DELETE ON read_markers BEGIN
    UPDATE view_tally SET n = n - 1
    WHERE (open, assignee_id, team_id, waiting, unread) = (
        SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL,
               last_message_id > OLD.last_read_message_id
        FROM conversations WHERE id = OLD.conversation_id);
    INSERT INTO view_tally (open, assignee_id, team_id, waiting, unread, n)
    SELECT (CASE status WHEN 'open' THEN 1 WHEN 'bot' THEN 2 ELSE 0 END), COALESCE(assignee_id, 0), team_id, waiting_since IS NOT NULL, last_message_id > 0, 1
    FROM conversations WHERE id = OLD.conversation_id
    ON CONFLICT DO UPDATE SET n = n + 1;
END;
