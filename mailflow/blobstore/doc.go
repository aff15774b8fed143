// Package blobstore is the one place files live: local disk under
// DATA_DIR or any S3-compatible store, so that several daemons on one
// database share uploads. Profile pictures, group pictures, resources and
// mail attachments all go through a [Store]; the database keeps only the
// key and what the pages need to know about the file.
//
// Uploads are first [Stage]d: streamed to a temporary file while they are
// hashed and measured, so a request body is never held in memory and an
// upload over the limit leaves nothing behind. [PutStaged] then stores the
// file content-addressed, under "sha256/<2 hex>/<64 hex>", so the same bytes
// are stored once.
package blobstore
