-- Pausing mail (issue 19): no group mail and no digest reaches a member
-- before paused_until; digests collect and the first one after the pause
-- covers it from paused_at (when the pause was set) if the member had no
-- digest before. Both NULL: not paused.
ALTER TABLE users ADD COLUMN paused_until timestamptz;
ALTER TABLE users ADD COLUMN paused_at timestamptz;
ALTER TABLE users ADD CONSTRAINT users_pause_both CHECK ((paused_until IS NULL) = (paused_at IS NULL));

-- Plain-text-only email: group mail and digests carry one text/plain part.
ALTER TABLE users ADD COLUMN plain_text_email boolean NOT NULL DEFAULT false;
