-- An email a visitor typed that nobody verified: shown to agents as such, never used to
-- join or merge customers; and how many such claims a visitor made in the current window,
-- so that claims are bounded.
ALTER TABLE visitors ADD COLUMN claimed_email TEXT;
ALTER TABLE visitors ADD COLUMN email_claims INTEGER NOT NULL DEFAULT 0;
ALTER TABLE visitors ADD COLUMN email_claims_since BIGINT NOT NULL DEFAULT 0;
