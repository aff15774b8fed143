-- "Others may write to me privately" (issue 19): whether a member's
-- messages offer "Reply to the author privately" and "Write privately",
-- and whether private addresses from older mail still reach them. On
-- unless the member turns it off.
ALTER TABLE users ADD COLUMN private_messages boolean NOT NULL DEFAULT true;
