-- Mail in, bounded at the door: a received message's bytes go to
-- PostgreSQL in chunks of about 1 MiB as they are copied from the spool
-- file, so neither parleyd nor a single protocol message ever holds a
-- whole message. Messages stored before this migration keep their bytes
-- in inbound_messages.raw; new ones leave it empty.
CREATE TABLE inbound_message_chunks (
    inbound_id bigint NOT NULL REFERENCES inbound_messages (id) ON DELETE CASCADE,
    seq        integer NOT NULL CHECK (seq >= 0),
    data       bytea NOT NULL,
    PRIMARY KEY (inbound_id, seq)
);

-- A message that cannot be processed ends 'failed' with its reason in
-- outcome; admins list those (and any left 'received' too long) to retry.
CREATE INDEX inbound_messages_attention_idx ON inbound_messages (received_at DESC)
    WHERE state <> 'processed';
