// Package inbound takes mail in: the SMTP/LMTP listener (go-smtp), the
// routing of recipient addresses, and the job that turns each received
// message into a post, a reply, a list command or a bounce.
//
// The listener's one promise is durability: a message is committed to
// PostgreSQL, raw, before the server answers 250 to DATA (RFC 5321
// section 4.1.1.4 lets a server accept only what it will deliver); all
// parsing and policy happens afterwards in the job queue. A database
// outage answers 451, so the sender's MTA keeps the message and retries.
package inbound
