-- One-time tokens of signed webhook calls (Mailgun's), kept until their
-- signature window has passed, so that a captured call cannot be replayed
-- against any daemon, before or after a restart.
CREATE TABLE webhook_tokens (
    provider   text NOT NULL,
    token      text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (provider, token)
);
CREATE INDEX webhook_tokens_expires_idx ON webhook_tokens (expires_at);
