-- Retention: settled deliveries, processed raw inbound copies and old
-- bounce events (reports by mail and provider webhook events) are removed
-- after settings the daemon names (mailflow/retention), in small batches.
-- What the dashboard draws from them is kept first as counts per UTC day,
-- in the same statement that removes the rows, so a chart reads the same
-- before and after its rows are gone (counts here + rows still live).
CREATE TABLE daily_counts (
    series text NOT NULL CHECK (series IN ('deliveries', 'failures', 'bounces', 'complaints')),
    day    date NOT NULL,
    count  bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (series, day)
);

-- Removing a delivery or a received message sets the bounce events that
-- name it to NULL (their foreign keys say ON DELETE SET NULL): without
-- these indexes each removed row would read the whole bounce_events table.
CREATE INDEX bounce_events_delivery_idx ON bounce_events (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX bounce_events_inbound_idx ON bounce_events (inbound_id) WHERE inbound_id IS NOT NULL;
