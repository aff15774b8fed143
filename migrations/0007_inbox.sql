-- The inbox: indexes that keep a member's inbox and the navigation's
-- badge cheap with thousands of threads in their groups.

-- Keyset pagination of a group's threads, newest first, ties broken by
-- id: a page starts where the last one ended without sorting. It covers
-- what threads_group_recent_idx did (its columns are a prefix of these),
-- so that one goes rather than be kept up to date for nothing. The
-- included columns let the badge count a group's visible threads from
-- the index alone, where the table's pages are all-visible.
CREATE INDEX threads_group_recent_id_idx ON threads (group_id, last_message_at DESC, id DESC) INCLUDE (message_count, private_member_id);
DROP INDEX threads_group_recent_idx;

-- The archive view starts from the member's archived threads.
CREATE INDEX thread_states_archived_idx ON thread_states (user_id, thread_id) WHERE archived_at IS NOT NULL;

-- The badge, counted on every page: held messages (of every group, for
-- those who moderate all) and requests to join.
CREATE INDEX messages_held_idx ON messages (group_id) WHERE status = 'held';
CREATE INDEX memberships_requested_idx ON memberships (group_id) WHERE status = 'requested';
