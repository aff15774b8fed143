-- Digests on demand (parleyd send-digests --now): a digest sent at once,
-- out of schedule, with everything new since the member's last digest.
-- It is due when it is asked for and has no period of its own, so the
-- one-digest-per-period rule holds for scheduled digests only.
ALTER TABLE digests ADD COLUMN on_demand boolean NOT NULL DEFAULT false;
ALTER TABLE digests DROP CONSTRAINT digests_user_id_period_period_key_key;
CREATE UNIQUE INDEX digests_scheduled_key ON digests (user_id, period, period_key) WHERE NOT on_demand;
