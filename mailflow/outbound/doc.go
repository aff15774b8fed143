// Package outbound turns accepted messages into email: it expands a
// message's recipients into delivery rows (the fan-out job), renders one
// email per recipient (templates compiled once, the message's markdown
// rendered once per message), signs it with DKIM when configured, and
// sends it through a Transport (SMTP relay, file outbox, or discard),
// recording each delivery's state so that nothing is lost or sent twice.
package outbound
