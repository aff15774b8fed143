// Package bounce decides what a bounce or complaint does to an address
// and applies it: the score policy (as Mailman 3's: a hard bounce adds
// 1.0, a soft one 0.5, at most one of each a day, reset after a quiet
// week; at the threshold delivery stops and the member is told how to
// start it again), complaints that suppress at once, and the record an
// admin reads. Reports arrive as mail (parsed by bounce/dsn), as
// provider webhooks (bounce/webhook), and as the relay's own 5xx replies.
// A report by mail acts only with proof (bounce/proof: a signed token
// naming the delivery); every other one is recorded as unverified, with
// why, and changes nothing.
package bounce
