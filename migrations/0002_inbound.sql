-- Mail in: every message received over SMTP, LMTP or IMAP is stored raw,
-- committed before the server answers 250, then processed by a job.

CREATE TABLE inbound_messages (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    transport    text NOT NULL CHECK (transport IN ('smtp', 'lmtp', 'imap')),
    remote_addr  text NOT NULL DEFAULT '',
    mail_from    text NOT NULL DEFAULT '',
    rcpt_to      text[] NOT NULL,
    raw          bytea NOT NULL,
    size_bytes   integer NOT NULL CHECK (size_bytes >= 0),
    -- SHA-256 of the raw bytes: the same message fetched twice (IMAP after
    -- a restart, an SMTP client retrying after a lost 250) is kept once.
    sha256       bytea NOT NULL,
    message_id   text NOT NULL DEFAULT '',
    state        text NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'processed', 'failed')),
    -- What became of it, per recipient ("posted", "held", "dropped: …",
    -- "rejected: …"): the trace an admin reads.
    outcome      text NOT NULL DEFAULT '',
    processed_at timestamptz
);
CREATE UNIQUE INDEX inbound_messages_sha256_key ON inbound_messages (sha256);
CREATE INDEX inbound_messages_received_idx ON inbound_messages (received_at DESC);

-- A Message-ID is unique within a group; the same message cross-posted to
-- two groups is one message in each.
ALTER TABLE messages DROP CONSTRAINT messages_message_id_key;
ALTER TABLE messages ADD CONSTRAINT messages_message_id_key UNIQUE (group_id, message_id);
CREATE INDEX messages_message_id_idx ON messages (message_id);

-- Automatic answers to a sender (the polite note to a non-member) are
-- sent at most once a day per address and reason.
CREATE TABLE auto_replies (
    email      text NOT NULL,
    reason     text NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (email, reason)
);
