-- Reports by email act only with proof: each bounce event says whether
-- it was proven to be about mail Parley sent to that address, and why
-- (or why not). Unverified reports never score or suppress; they are
-- kept for admins.
ALTER TABLE bounce_events
    ADD COLUMN verified boolean NOT NULL DEFAULT true,
    ADD COLUMN proof text NOT NULL DEFAULT '';
CREATE INDEX bounce_events_received_idx ON bounce_events (received_at DESC, id DESC);
