-- Per conversation mail (issue 19): a member mutes a thread (no more of
-- its mail, and none of it in their digests) or follows it (every new
-- message by email at once, whatever their group setting). No row means
-- the group setting decides. The primary key serves the fan-out, which
-- looks up one (member, thread) per recipient.
CREATE TABLE thread_prefs (
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thread_id  bigint NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    pref       text NOT NULL CHECK (pref IN ('mute', 'follow')),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, thread_id)
);
CREATE INDEX thread_prefs_thread_idx ON thread_prefs (thread_id);

-- "Follow conversations I start or reply to" (groups.io's default: on):
-- a member on digest or no mail who posts follows the thread.
ALTER TABLE users ADD COLUMN follow_own_threads boolean NOT NULL DEFAULT true;
