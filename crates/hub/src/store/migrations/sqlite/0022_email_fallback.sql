-- Web chat's replies by email: each email sent to a visitor who had not seen agents'
-- replies in time, covering the replies up to up_to_message_id. The unique pair is how one
-- hub of several claims the email; email_message_id is the Message-ID the visitor's answer
-- threads on, back into the chat.

CREATE TABLE email_fallbacks (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL,
    up_to_message_id  INTEGER NOT NULL,
    to_address        TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_at           INTEGER NOT NULL,
    email_message_id  TEXT,
    error             TEXT,
    created_at        INTEGER NOT NULL,
    sent_at           INTEGER
);
CREATE UNIQUE INDEX email_fallbacks_once ON email_fallbacks (conversation_id, up_to_message_id);
CREATE UNIQUE INDEX email_fallbacks_thread ON email_fallbacks (email_message_id);
CREATE INDEX email_fallbacks_due ON email_fallbacks (state, next_at);
-- Agents' recent replies in chats, which the fallback looks through.
CREATE INDEX messages_chat_replies ON messages (created_at)
    WHERE channel IN ('webchat', 'in_app') AND direction = 'outbound';
