-- Writing first: the agent who started a conversation (null when the customer did), so
-- first-response times count only answers to customers who asked.

ALTER TABLE conversations ADD COLUMN started_by INTEGER;
