// Package dsn reads a message that came back to Parley and says what it
// is: a delivery failure (bounce), a delay warning, a spam complaint, an
// automatic reply, or ordinary mail, and, for reports, which recipients
// it is about and why.
//
// It owns the reading of reports, not what they do to an address: the
// parent package bounce scores and suppresses. Classify is the only entry
// point; it never fails and never panics, and runs in time linear in the
// size of the message.
//
// The forms it reads:
//
//   - RFC 3464 delivery status notifications: multipart/report (RFC 6522)
//     with a message/delivery-status part (or RFC 6533's
//     message/global-delivery-status), one group of fields per recipient.
//     Action: delayed is a warning, not a failure. Status is an RFC 3463
//     enhanced code; its first digit gives the Class (5 hard, 4 soft).
//     A forwarding mailbox's Original-Recipient is kept beside the
//     Final-Recipient as the address Parley mailed.
//   - RFC 5965 abuse reports (ARF): message/feedback-report, read as a
//     complaint about the addresses in Original-Rcpt-To (or the older
//     draft's Removal-Recipient), else in the To of the returned message.
//   - RFC 3834 automatic replies (vacation, out of office), recognised by
//     the parse package's markers.
//   - The reports of mailers that predate or ignore RFC 3464, in
//     text.go and head.go: Postfix, Exim, qmail, Sendmail (V8 and V5),
//     Exchange 2003 and 2007, Office 365 and Outlook.com, Gmail, Yahoo,
//     GMX, mail.ru, Amazon SES (MIME reports and SNS notifications mailed
//     as JSON), SendGrid, Google Groups, Lotus Notes and Domino,
//     OpenSMTPD, DragonFly Mail Agent, and the free text of older and
//     regional servers (SMTP32, LSMTP, InterScan, MailFoundry, Zoho, the
//     Japanese carriers), read by the shape of their recipient lines
//     ("label: address", list items, "address, then why"), with the
//     last resorts of fallback.go. Files stored with CR-only line endings
//     are read as lines.
//
// Every Report says in Rule which rule decided it (the format, field or
// words), and every Recipient how its address was found, for the
// operator's `parleyd inspect bounce`.
//
// Being wrong costs differently in each direction: a bounce taken for a
// post is distributed to a whole list, while a post taken for a bounce is
// lost and can count against its author's address. So the reading is
// conservative. Without the structure of a report (multipart/report, a
// delivery-status or feedback-report part, an SES notification), text is
// read as a bounce only when the message comes from a mailer (a null
// Return-Path, MAILER-DAEMON or postmaster, X-Failed-Recipients) or opens
// with a mailer's own wording; a person writing "my delivery failed" is
// ordinary mail. Addresses are taken from report text only before the
// copy of the returned message, so the original's own header fields are
// never mistaken for failed recipients.
//
// Whether a recipient Scores follows what the failure says about the
// mailbox: unknown users, full mailboxes, dead domains and expired retries
// count, hard or soft; delays, and rejections of the content or of the
// sender's reputation (spam, policy, DMARC, blocklists: 5.7.x) do not,
// because they are alarms for the admins, not facts about the member.
// Complaints never score; the caller suppresses on them instead.
package dsn
