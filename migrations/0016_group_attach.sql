-- A group may attach its members' files to group email, up to a size,
-- instead of linking them (issue 15). 0 links every file.
ALTER TABLE groups ADD COLUMN attach_max_kb integer NOT NULL DEFAULT 0
    CHECK (attach_max_kb >= 0 AND attach_max_kb <= 10240);
