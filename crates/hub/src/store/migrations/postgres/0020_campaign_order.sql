-- A campaign's due recipients are taken in file order: this index gives them in that order
-- without sorting every queued row (next_at is checked on the way).

CREATE INDEX campaign_recipients_in_order ON campaign_recipients (campaign_id, state, row_no);
