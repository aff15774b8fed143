-- The user report's "last login" and "visits": noted at each sign-in.
ALTER TABLE users
    ADD COLUMN last_login_at timestamptz,
    ADD COLUMN visits integer NOT NULL DEFAULT 0 CHECK (visits >= 0);

-- Reports count messages per author and per group without reading every
-- message of the site each time.
CREATE INDEX IF NOT EXISTS messages_author_idx ON messages (author_id) WHERE author_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS flags_flagged_by_idx ON flags (flagged_by) WHERE flagged_by IS NOT NULL;
