-- Canned responses: the agent's saved replies. Kept with the outbox, so rebuilding the
-- cache never loses them.

CREATE TABLE canned (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    shortcut   TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

INSERT INTO canned (shortcut, title, body, updated_at) VALUES
    ('hi', 'Greeting', 'Hi {{customer.first_name}}, this is {{agent.first_name}} from the support team. How can I help?', 0),
    ('thanks', 'Thanks for waiting', 'Thanks for your patience, {{customer.first_name}}. I''m looking into this now.', 0),
    ('order', 'Order number', 'Could you send me your order number, {{customer.first_name}}? It starts with NW- and is in your confirmation email.', 0),
    ('bye', 'Closing', 'Glad I could help, {{customer.first_name}}! If anything else comes up, just reply here. — {{agent.name}}', 0);
