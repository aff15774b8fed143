// Package proof finds the signed tokens by which a delivery report (a
// DSN, RFC 3464, or an ARF complaint, RFC 5965) proves that it is about
// mail Parley sent, and checks them. Anyone can write a report naming
// any address; only Parley can sign a token. A report proves itself by
// arriving at bounces+TOKEN@ (checked by the caller, from the envelope),
// or by carrying, inside its body, the returned copy of Parley's message
// with that copy's own tokens: its VERP Return-Path, its
// List-Unsubscribe link, or its X-Parley-Delivery header. Each names one
// recipient, which the caller looks up.
//
// The package reads no database and keeps no state, so that `parleyd
// inspect bounce` shows the same finding the intake acts on.
package proof
