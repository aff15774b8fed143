// Package quote finds the new text of a reply. The web shows only what
// the sender wrote: quoted history and signatures are folded away, while
// the stored original keeps them.
//
// Split works on plain text, line by line. It knows the attribution
// lines mail clients write before a quote ("On <date>, <name> wrote:" and
// its German, French, Spanish, Italian, Portuguese, Dutch, Nordic,
// Russian, Polish, Japanese and Chinese forms, also when Gmail wraps it
// over two or three lines), the "-----Original Message-----" separators,
// Outlook's "From: … Sent: … To: … Subject:" header blocks in several
// languages, ">" quoted blocks, the RFC 3676 §4.3 "-- " signature
// delimiter, and the short "Sent from my iPhone" lines mobile clients
// append. A top-posted reply keeps the text above the quote; an inline
// reply keeps every new fragment between the quotes.
//
// SplitHTML first removes the quote and signature elements clients mark
// in HTML (Gmail's gmail_quote and gmail_signature, blockquote
// type=cite of Apple Mail and Thunderbird, Thunderbird's moz-cite-prefix,
// Outlook's divRplyFwdMsg and what follows it, Yahoo's yahoo_quoted),
// converts the rest with parse.HTMLToText and splits that.
//
// Both run in time linear in their input: there are no regular
// expressions, every test looks at one line or a bounded window of lines,
// and lines too long to be an attribution are not examined as one. The
// input is hostile (anyone can mail a list), so this matters.
package quote
