-- The console whose save or delete last changed a canned response, so an edit made on a
-- version it has not seen is told apart from one building on its own earlier edit.
ALTER TABLE canned_responses ADD COLUMN updated_client TEXT;
