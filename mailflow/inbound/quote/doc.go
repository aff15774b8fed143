// Package quote finds the new text of a reply. The web shows only what
// the sender wrote: quoted history, signatures and list footers are
// folded away, while the stored original keeps them.
//
// Split works on plain text, line by line. It knows:
//   - the attribution lines clients write before a quote ("On <date>,
//     <name> wrote:" and its forms in some thirty languages, also when
//     wrapped over two or three lines, without its colon, or framed in
//     dashes as Zoho writes "---- On … wrote ----");
//   - the "-----Original Message-----" and forward separators, and the
//     header blocks ("From: … Sent: … To: … Subject: …") of Outlook,
//     webmails and phones in their languages and field orders;
//   - ">" quoted blocks (RFC 3676 §4.5), with the lines a client's
//     re-wrapping left without their ">";
//   - the RFC 3676 §4.3 "-- " signature delimiter, the "Sent from my
//     iPhone" lines phones append (and the unquoted history after them),
//     disclaimers under the quote, and the footers list managers add
//     (Mailman, Google Groups, groups.io, Parley's own).
//
// A top-posted reply keeps the text above the quote; an inline reply
// keeps every new fragment between the quotes. A signature at the end is
// folded; one the sender's client wrote above a ">" quote stays with the
// text, as the sources of the corpora expect.
//
// The data — the words of each language — is in patterns.go; the rest
// reads the structure: attribution.go, header.go, classify.go,
// signature.go, and html.go for SplitHTML, which first removes the quote
// and signature elements clients mark in HTML (Gmail's gmail_quote and
// gmail_signature, blockquote type=cite of Apple Mail and Thunderbird,
// Thunderbird's moz-cite-prefix, Outlook's divRplyFwdMsg and what follows
// it, Yahoo's yahoo_quoted, Zoho's zmail_extra), converts the rest with
// parse.HTMLToText and splits that.
//
// Both run in time linear in their input: there are no regular
// expressions, every test looks at one line or a bounded window of lines,
// and lines too long to be an attribution are not examined as one. The
// input is hostile (anyone can mail a list), so this matters.
package quote
