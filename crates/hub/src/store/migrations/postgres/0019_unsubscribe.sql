-- One-click unsubscribe links (RFC 8058): an unguessable token per address and purpose,
-- named in the List-Unsubscribe header of every email that starts a thread.

CREATE TABLE unsubscribe_links (
    token      TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    address    TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX unsubscribe_links_once ON unsubscribe_links (channel, address, purpose);
