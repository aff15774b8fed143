-- Writing to one owner (Connect's envelope beside an owner's name): a
-- private thread between a member and one of the group's owners, read
-- and mailed only to those two, where a private thread without it is
-- between the member and every owner.
ALTER TABLE threads ADD COLUMN private_owner_id bigint REFERENCES users (id) ON DELETE CASCADE;
ALTER TABLE threads ADD CONSTRAINT threads_private_owner_needs_member CHECK (private_owner_id IS NULL OR private_member_id IS NOT NULL);
CREATE INDEX threads_private_owner_idx ON threads (private_owner_id) WHERE private_owner_id IS NOT NULL;

-- The inbox and the badge decide visibility from this index alone, so
-- it carries the new column beside the member's, and the count of hidden
-- messages (0017).
CREATE INDEX threads_group_recent_id2_idx ON threads (group_id, last_message_at DESC, id DESC)
    INCLUDE (message_count, hidden_count, private_member_id, private_owner_id);
DROP INDEX threads_group_recent_id_idx;
ALTER INDEX threads_group_recent_id2_idx RENAME TO threads_group_recent_id_idx;
