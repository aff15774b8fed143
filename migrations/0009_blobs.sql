-- Pictures' bytes move to the blob store (mailflow/blobstore: DATA_DIR/blobs
-- or S3), where resources and attachments live too, so that several
-- daemons on one database share them. A picture row keeps its key, type
-- and date; data is NULL for a picture in the blob store.
--
-- Rows written before this migration keep their bytes and are served from
-- the row, so a deployment upgrades without a copy step.
ALTER TABLE pictures ALTER COLUMN data DROP NOT NULL;
