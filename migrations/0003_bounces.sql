-- Bounces and complaints: each report, and a score per address (as
-- Mailman 3 keeps one per member).

ALTER TABLE bounce_events
    ADD COLUMN provider_event_id text,
    ADD COLUMN class text NOT NULL DEFAULT '' CHECK (class IN ('', 'hard', 'soft')),
    ADD COLUMN reason text NOT NULL DEFAULT '',
    ADD COLUMN scored boolean NOT NULL DEFAULT false,
    ADD COLUMN inbound_id bigint REFERENCES inbound_messages (id) ON DELETE SET NULL;
-- The same provider event delivered twice is recorded once.
CREATE UNIQUE INDEX bounce_events_provider_event_key ON bounce_events (provider, provider_event_id)
    WHERE provider_event_id IS NOT NULL;

CREATE TABLE bounce_scores (
    email           text PRIMARY KEY CHECK (email = lower(email)),
    score           numeric(8, 2) NOT NULL DEFAULT 0 CHECK (score >= 0),
    last_hard_on    date,         -- at most one hard bounce counts per day
    last_soft_on    date,         -- and one soft bounce
    last_bounce_at  timestamptz,
    disabled_at     timestamptz,  -- delivery stopped: the score reached the threshold
    warnings_sent   integer NOT NULL DEFAULT 0 CHECK (warnings_sent >= 0),
    last_warning_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounce_scores_disabled_idx ON bounce_scores (disabled_at) WHERE disabled_at IS NOT NULL;
