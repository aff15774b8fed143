-- The web UI's groups, threads and inbox: private threads with a group's
-- owners, public archives, read and archived state per member, flags
-- that hide a message until reviewed, and full-text search.

-- A private thread is between one member and the group's owners; it is
-- not in the group's thread list and is mailed only to them.
ALTER TABLE threads ADD COLUMN private_member_id bigint REFERENCES users (id) ON DELETE CASCADE;
CREATE INDEX threads_private_idx ON threads (private_member_id, last_message_at DESC) WHERE private_member_id IS NOT NULL;

-- A public archive is readable without signing in (as Mailman's
-- HyperKitty or Google Groups allow); members-only is the default.
ALTER TABLE groups ADD COLUMN archive_public boolean NOT NULL DEFAULT false;

-- What a member has read and archived, per thread. A thread is unread
-- when it has a message newer than read_at, and back in the inbox when it
-- has one newer than archived_at.
CREATE TABLE thread_states (
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id   bigint NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    read_at     timestamptz,
    archived_at timestamptz,
    PRIMARY KEY (user_id, thread_id)
);
CREATE INDEX thread_states_thread_idx ON thread_states (thread_id);

-- Open flags hide a message from everyone but its author and the
-- group's moderators until a moderator resolves them.
CREATE INDEX flags_open_idx ON flags (message_id) WHERE resolved_at IS NULL;

-- Full-text search: subject weighs more than body; English stemming
-- ("owls" finds "owl").
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', coalesce(subject, '')), 'A') || setweight(to_tsvector('english', coalesce(body, '')), 'B')
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);

-- Explore: search groups by name, description and location.
CREATE INDEX groups_search_idx ON groups USING gin (
    to_tsvector('english', name || ' ' || description || ' ' || location || ' ' || display_location));
