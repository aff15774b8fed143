-- The deliveries no longer check their message and recipient against
-- messages and users by foreign key. The two checks ran as a trigger per
-- inserted row and were half of the fan-out's expansion: it recorded
-- about 27,000 members a second with them and 50,000 without, on a list
-- of 50,000 members beside 30 million delivery rows (issue 18). What
-- they gave is kept where it is needed:
--   * expansion only ever inserts members it has just read, and a message
--     it has just read;
--   * a claim settles as 'skipped' a delivery whose account or message is
--     gone (an account deleted, or a private conversation with it, while
--     the fan-out ran), so nothing is mailed after a deletion commits;
--   * deleting an account removes the deliveries of its private
--     conversations and clears its address from the others, as the
--     cascades did (store.DeleteAccount).
-- Deleting a user no longer reads the whole deliveries table for the
-- ON DELETE SET NULL either.
ALTER TABLE deliveries
    DROP CONSTRAINT IF EXISTS deliveries_message_id_fkey,
    DROP CONSTRAINT IF EXISTS deliveries_user_id_fkey;
