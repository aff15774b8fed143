-- Threads whose every message is hidden from a reader are not listed for
-- them in the inbox nor counted by its badge. Asking, per thread, whether
-- any message is visible made the inbox take over a second on a large
-- site, so each thread keeps how many of its approved messages are hidden
-- from ordinary readers: under an open flag, or by an author banned from
-- the group or the site. A thread with message_count > hidden_count shows
-- something to everyone; only the rare rest need a per-reader look (a
-- reader's own messages, a moderator's view of flagged ones).
--
-- Triggers keep the count in the transaction of each change that hides or
-- shows a message (a flag opened or resolved, a message approved, removed,
-- moved or deleted, a ban or its lifting), whichever code makes it.
ALTER TABLE threads ADD COLUMN hidden_count integer NOT NULL DEFAULT 0;
-- The few threads whose every approved message is hidden, which the badge
-- looks into one reader at a time.
CREATE INDEX threads_all_hidden_idx ON threads (group_id) WHERE message_count > 0 AND hidden_count >= message_count;

-- message_hidden: an approved message hidden from ordinary readers (the
-- store's visibleToAll, negated, for approved messages).
CREATE FUNCTION message_hidden(mid bigint, gid bigint, aid bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM flags f WHERE f.message_id = mid AND f.resolved_at IS NULL)
        OR EXISTS (SELECT 1 FROM memberships b WHERE b.group_id = gid AND b.user_id = aid AND b.status = 'banned')
        OR EXISTS (SELECT 1 FROM users bu WHERE bu.id = aid AND bu.status = 'banned')
$$;

-- thread_hidden_recount sets one thread's count from its messages.
CREATE FUNCTION thread_hidden_recount(tid bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE threads t SET hidden_count = c.n
    FROM (SELECT count(*)::integer AS n FROM messages m
          WHERE m.thread_id = tid AND m.status = 'approved' AND message_hidden(m.id, m.group_id, m.author_id)) c
    WHERE t.id = tid AND t.hidden_count <> c.n
$$;

-- A new approved message hides nothing unless its author is banned.
CREATE FUNCTION messages_hidden_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF message_hidden(NEW.id, NEW.group_id, NEW.author_id) THEN
        PERFORM thread_hidden_recount(NEW.thread_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_hidden_ins AFTER INSERT ON messages FOR EACH ROW
    WHEN (NEW.status = 'approved' AND NEW.author_id IS NOT NULL)
    EXECUTE FUNCTION messages_hidden_ins();

-- A message approved or no longer, moved, given another author, or
-- deleted: its thread (or both threads) counted again.
CREATE FUNCTION messages_hidden_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM thread_hidden_recount(OLD.thread_id);
    IF TG_OP = 'UPDATE' AND NEW.thread_id <> OLD.thread_id THEN
        PERFORM thread_hidden_recount(NEW.thread_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_hidden_upd AFTER UPDATE OF status, thread_id, author_id ON messages FOR EACH ROW
    WHEN ((OLD.status = 'approved' OR NEW.status = 'approved') AND (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.thread_id IS DISTINCT FROM NEW.thread_id OR OLD.author_id IS DISTINCT FROM NEW.author_id))
    EXECUTE FUNCTION messages_hidden_change();
CREATE TRIGGER messages_hidden_del AFTER DELETE ON messages FOR EACH ROW
    WHEN (OLD.status = 'approved')
    EXECUTE FUNCTION messages_hidden_change();

-- A flag opened, resolved or deleted: its message's thread.
CREATE FUNCTION flags_hidden_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM thread_hidden_recount(m.thread_id) FROM messages m
    WHERE m.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.message_id ELSE NEW.message_id END;
    RETURN NULL;
END $$;
CREATE TRIGGER flags_hidden_ins AFTER INSERT ON flags FOR EACH ROW
    WHEN (NEW.resolved_at IS NULL) EXECUTE FUNCTION flags_hidden_change();
CREATE TRIGGER flags_hidden_upd AFTER UPDATE OF resolved_at, message_id ON flags FOR EACH ROW
    WHEN (OLD.resolved_at IS DISTINCT FROM NEW.resolved_at OR OLD.message_id <> NEW.message_id)
    EXECUTE FUNCTION flags_hidden_change();
CREATE TRIGGER flags_hidden_del AFTER DELETE ON flags FOR EACH ROW
    WHEN (OLD.resolved_at IS NULL) EXECUTE FUNCTION flags_hidden_change();

-- A ban, or its lifting, from a group (a membership) or the site (an
-- account): the threads with the author's approved messages there.
CREATE FUNCTION author_hidden_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    uid bigint;
    gid bigint;
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        uid := NEW.id;
    ELSIF TG_OP = 'DELETE' THEN
        uid := OLD.user_id; gid := OLD.group_id;
    ELSE
        uid := NEW.user_id; gid := NEW.group_id;
    END IF;
    PERFORM thread_hidden_recount(x.thread_id)
    FROM (SELECT DISTINCT m.thread_id FROM messages m
          WHERE m.author_id = uid AND (gid IS NULL OR m.group_id = gid) AND m.status = 'approved') x;
    RETURN NULL;
END $$;
CREATE TRIGGER memberships_hidden_ins AFTER INSERT ON memberships FOR EACH ROW
    WHEN (NEW.status = 'banned') EXECUTE FUNCTION author_hidden_change();
CREATE TRIGGER memberships_hidden_upd AFTER UPDATE OF status ON memberships FOR EACH ROW
    WHEN ((OLD.status = 'banned') <> (NEW.status = 'banned')) EXECUTE FUNCTION author_hidden_change();
CREATE TRIGGER memberships_hidden_del AFTER DELETE ON memberships FOR EACH ROW
    WHEN (OLD.status = 'banned') EXECUTE FUNCTION author_hidden_change();
CREATE TRIGGER users_hidden_upd AFTER UPDATE OF status ON users FOR EACH ROW
    WHEN ((OLD.status = 'banned') <> (NEW.status = 'banned')) EXECUTE FUNCTION author_hidden_change();

-- The threads there are now.
UPDATE threads t SET hidden_count = c.n
FROM (SELECT m.thread_id, count(*)::integer AS n FROM messages m
      WHERE m.status = 'approved' AND message_hidden(m.id, m.group_id, m.author_id)
      GROUP BY m.thread_id) c
WHERE t.id = c.thread_id;
