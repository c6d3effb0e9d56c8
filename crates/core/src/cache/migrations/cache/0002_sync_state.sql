-- What sync keeps besides entities: which threads are cached back to their first message,
-- and which customer messages were already announced.

CREATE TABLE history_start (
    conversation_id INTEGER PRIMARY KEY
);

-- Customer messages a notification was decided for, so none is announced twice.
CREATE TABLE notified (
    message_id INTEGER PRIMARY KEY
);
