-- Resources: files shared with a group (uploaded on the web or sent as
-- email attachments), their tags, and full-text search over both.
--
-- The files themselves live in the blob store (mailflow/blobstore); a
-- resource keeps the key, what was detected about the content, and the
-- name people gave it. Several resources may share one content key (the
-- same bytes uploaded twice): the blob goes with the last of them.

-- Tags get a slug (Connect's Tag Admin edits slug and name). Tags made
-- before this migration get one from their name, made unique with the id.
ALTER TABLE tags
    ADD COLUMN slug text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE tags SET slug = left(trim(both '-' from regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g')), 40);
UPDATE tags SET slug = 'tag' WHERE slug = '';
UPDATE tags t SET slug = t.slug || '-' || t.id
    WHERE EXISTS (SELECT 1 FROM tags o WHERE o.slug = t.slug AND o.id < t.id);
ALTER TABLE tags
    ALTER COLUMN slug SET NOT NULL,
    ADD CONSTRAINT tags_slug_check CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    ADD CONSTRAINT tags_name_check_line CHECK (name !~ '[\r\n]');
CREATE UNIQUE INDEX tags_slug_key ON tags (slug);

ALTER TABLE resources
    -- The blob store key of the content ("sha256/ab/abcd…") and of the
    -- thumbnail of an image ('' when there is none).
    ADD COLUMN blob_key     text NOT NULL DEFAULT '',
    ADD COLUMN thumb_key    text NOT NULL DEFAULT '',
    -- The file's name as uploaded or attached, without any directory.
    ADD COLUMN filename     text NOT NULL DEFAULT '' CHECK (length(filename) <= 255),
    -- What the content is, for the type filter and icons (detected from
    -- the content, never from the name).
    ADD COLUMN kind         text NOT NULL DEFAULT 'document'
        CHECK (kind IN ('pdf', 'document', 'spreadsheet', 'presentation', 'image', 'text', 'archive')),
    -- The names and slugs of the resource's tags, kept by the store
    -- whenever they change, so that search needs no join.
    ADD COLUMN tag_text     text NOT NULL DEFAULT '',
    -- Text extracted from the content (the first 100 KB of a text file).
    ADD COLUMN content_text text NOT NULL DEFAULT '' CHECK (length(content_text) <= 110000);
UPDATE resources SET blob_key = 'sha256/' || substr(content_hash, 1, 2) || '/' || content_hash WHERE blob_key = '';
ALTER TABLE resources ADD CONSTRAINT resources_blob_key_check CHECK (blob_key <> '');

-- Name and tags weigh more than the content; English stemming, as the
-- message search.
ALTER TABLE resources ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', name), 'A') ||
    setweight(to_tsvector('english', tag_text), 'A') ||
    setweight(to_tsvector('english', content_text), 'C')
) STORED;
CREATE INDEX resources_search_idx ON resources USING gin (search);
CREATE INDEX resources_hash_idx ON resources (content_hash);
CREATE INDEX resource_tags_tag_idx ON resource_tags (tag_id);
-- An email's attachments are stored once per message, even when the job
-- that stores them runs again.
CREATE UNIQUE INDEX resources_message_file_key ON resources (message_id, content_hash, filename)
    WHERE message_id IS NOT NULL;
-- The audit log read by target: a tag's history.
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, created_at DESC);
