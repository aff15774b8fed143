// Package senderauth decides whether the From of a received message is
// really the sender's: SPF of the envelope sender (RFC 7208), DKIM
// signatures (RFC 6376) and DMARC alignment of the From domain (RFC 7489)
// when mail reaches Parley's own listener directly; behind an MTA, the
// Authentication-Results header (RFC 8601) stamped by the one
// authserv-id Parley is told to trust, and Parley's own DKIM check.
// Every DNS lookup goes through one small Resolver (cached, with a
// timeout per message), so that tests inject their own records.
package senderauth
