-- Choices the customer answers with a tap: offered with an agent's message (buttons or a
-- list, JSON), and the answer on the customer's (its id, title and the message that
-- offered it, JSON).

ALTER TABLE messages ADD COLUMN choices TEXT;
ALTER TABLE messages ADD COLUMN chosen TEXT;
