// Package mailparse turns a message as received (RFC 5322 bytes) into what
// Parley stores and shows: the envelope-ish header fields, the body as
// plain UTF-8 text, the HTML body as sent, the attachments, and the
// markers of automatic mail (RFC 3834).
//
// Mail in the wild breaks every rule, so the parser never gives up on a
// message that has anything useful in it: a missing final boundary, an
// unknown charset, malformed base64, a multipart without a boundary or a
// display name with an unquoted comma are worked around, and each
// workaround is recorded in Message.Warnings. Parse returns an error only
// when there is nothing to keep. It never panics, and it runs in time
// linear in the size of the input: header and MIME scanning are single
// passes, multipart nesting is bounded, and no regular expression looks at
// message text.
//
// Charsets (RFC 2046 §4.1.2, RFC 2047, RFC 2231) are decoded through
// github.com/emersion/go-message/charset, which knows the IANA and WHATWG
// names; anything it does not know falls back to UTF-8 when the bytes are
// valid UTF-8 and to windows-1252 otherwise, as browsers do.
//
// HTMLToText is the converter used for HTML-only mail; the quote package
// uses it too, after folding quoted history out of an HTML reply.
package mailparse
