-- Digests: daily and weekly, one email per member per period.

ALTER TABLE users DROP CONSTRAINT users_default_delivery_check;
ALTER TABLE users ADD CONSTRAINT users_default_delivery_check CHECK (default_delivery IN ('immediate', 'digest', 'weekly', 'none'));
ALTER TABLE memberships DROP CONSTRAINT memberships_delivery_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_delivery_check CHECK (delivery IN ('immediate', 'digest', 'weekly', 'none'));
CREATE INDEX memberships_digest_idx ON memberships (user_id) WHERE delivery IN ('digest', 'weekly') AND status = 'active';

-- One row per member and period: the record that makes digests
-- exactly-once. period_key is the member's local date of the digest.
CREATE TABLE digests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    period       text NOT NULL CHECK (period IN ('daily', 'weekly')),
    period_key   date NOT NULL,
    due_at       timestamptz NOT NULL, -- the local morning it was due
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'empty', 'failed')),
    messages     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    UNIQUE (user_id, period, period_key)
);
CREATE INDEX digests_user_period_idx ON digests (user_id, period, due_at DESC);
