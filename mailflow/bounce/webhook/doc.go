// Package webhook verifies and decodes the bounce, complaint and
// unsubscribe notifications that email providers post to Parley: Amazon SES
// (through SNS), Postmark, Mailgun and SendGrid. It owns each provider's
// authentication (SNS message signatures, HTTP basic auth, HMAC tokens,
// ECDSA signatures) and the mapping of each provider's vocabulary onto one
// Event type; what an event does to an address is package bounce's
// business.
//
// Each provider is a Provider in the registry (Providers): its name, which
// is also its route segment, its settings, its endpoint and its unverified
// decoding; the HTTP routes, the daemon's settings check, `parleyd inspect
// webhook` and the README's provider table read the registry. Under each
// endpoint is one decode function per provider. Each takes the raw request
// body (the caller limits it, 1 MB is ample) and the request's credentials,
// and returns ErrUnauthorized (answer 401 or 403) or ErrMalformed (answer
// 400) or the events. Event types Parley has no use for (opens, clicks,
// sends) are dropped without error, so a provider configured to post more
// than Parley needs is not told to retry.
//
// # Which events count against an address
//
// Kind says what the provider reported, in its own classes: "hard" for a
// permanent failure, "soft" for a temporary one. Scores says whether the
// failure is the mailbox's fault, and is only ever true for hard and soft
// events. It is false when the provider or the status code says the
// receiving system refused this message, not this address:
//
//   - an enhanced status code (RFC 3463) of class X.6.X (media/content) or
//     X.7.X (security or policy), or X.3.4 (message too big for the
//     system), whatever the provider's own class;
//   - SES Transient bounces of sub-type MessageTooLarge, ContentRejected
//     and AttachmentRejected;
//   - SendGrid "blocked" (a bounce of type "blocked", or the "blocked"
//     event), which SendGrid documents as a temporary refusal, and bounces
//     that SendGrid classifies as Content, Reputation or Frequency or
//     Volume Too High;
//   - Postmark Transient (a delay Postmark retries; the final failure comes
//     as its own bounce), and Postmark's SpamNotification, Blocked,
//     ManuallyDeactivated and other types that are no verdict on the
//     mailbox (Kind "other");
//   - Mailgun permanent failures with reason "espblock" (the sending
//     service refused), and "suppress-complaint"/"suppress-unsubscribe"
//     (Kind "other").
//
// Reports that the provider did not even try because the address is on
// its suppression list for earlier hard bounces do count: SES Permanent
// "Suppressed" and "OnAccountSuppressionList", SendGrid "dropped" for
// "Bounced Address" or "Invalid", Mailgun "suppress-bounce". The provider
// will deliver nothing to that address again, so the list should learn it
// even when it missed, or predates, the original bounce. Other drops are
// Kind "other" and do not count.
//
// SES bounces of type Undetermined are Kind "soft": SES could not say why,
// and a soft bounce weighs less. Complaints, unsubscribes, deliveries and
// delays never score; their Kind is the signal.
//
// # Idempotency
//
// Event.ID is the provider's own identifier (SNS MessageId plus the
// recipient for SES, the record ID for Postmark, event-data.id for
// Mailgun, sg_event_id for SendGrid) or, when a payload has none, the
// SHA-256 (hex) of the event's canonical JSON (keys sorted, no
// insignificant space). Providers retry; store events by (Provider, ID).
package webhook
