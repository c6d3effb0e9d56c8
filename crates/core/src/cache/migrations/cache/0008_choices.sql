-- Choices offered with an agent's message, and a customer's answer to them (JSON).

ALTER TABLE messages ADD COLUMN choices TEXT;
ALTER TABLE messages ADD COLUMN chosen TEXT;
