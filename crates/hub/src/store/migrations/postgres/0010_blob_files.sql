-- Files move out of the database: a blob is named by an unguessable key and its bytes are
-- a file in the hub's file store; `data` is emptied once the file is written (rows from
-- before are moved by the hub as it starts). `message_id` is the message whose
-- attachment it is, which decides who may fetch it.
ALTER TABLE blobs ADD COLUMN blob_key TEXT;
ALTER TABLE blobs ADD COLUMN sha256 TEXT;
ALTER TABLE blobs ADD COLUMN message_id BIGINT;
CREATE UNIQUE INDEX blobs_key ON blobs (blob_key);
