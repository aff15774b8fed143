-- Who sent a post: the HELO name the SMTP client gave, and the result of
-- checking the From (SPF, DKIM, DMARC, or a trusted MTA's
-- Authentication-Results), kept with the received message.
ALTER TABLE inbound_messages ADD COLUMN helo text NOT NULL DEFAULT '';
ALTER TABLE inbound_messages ADD COLUMN sender_auth jsonb;
-- The same verdict in words, on the message it became, for moderators.
ALTER TABLE messages ADD COLUMN sender_auth text NOT NULL DEFAULT '';
-- What a group does with a post whose From fails DMARC for a domain that
-- publishes p=quarantine or p=reject: hold it for a moderator, or refuse it.
ALTER TABLE groups ADD COLUMN dmarc_failure text NOT NULL DEFAULT 'hold' CHECK (dmarc_failure IN ('hold', 'refuse'));
