// Package imapin pulls list mail out of an IMAP mailbox and hands each raw
// message to the same intake pipeline as SMTP. It is for deployments whose
// list address delivers into a mailbox (a hosted mail account, a shared
// Dovecot) rather than to parleyd's own SMTP listener.
//
// The package owns the IMAP side only: connecting (implicit TLS, or
// STARTTLS), finding unseen messages, fetching them without setting \Seen,
// and marking or moving them once the ingest side has committed them.
// Deduplication belongs to the ingest side, so delivery here is
// at-least-once: a crash between a commit and the \Seen flag re-delivers a
// message, and the ingest func returns nil for it.
//
// The protocol is IMAP4rev1 (RFC 3501) with IDLE (RFC 2177), MOVE
// (RFC 6851) and UIDPLUS (RFC 4315) used when the server offers them.
package imapin
