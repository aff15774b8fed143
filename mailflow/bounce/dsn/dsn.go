package dsn

import (
	"bytes"

	"github.com/parleymail/parley/mailflow/mailparse"
)

// Kind says what a received message is.
type Kind string

// The kinds of message Classify tells apart.
const (
	KindBounce     Kind = "bounce"     // at least one recipient failed
	KindDelayed    Kind = "delayed"    // a warning: delivery is still being tried
	KindComplaint  Kind = "complaint"  // an abuse report (RFC 5965)
	KindAutoReply  Kind = "autoreply"  // vacation, out of office, read receipt, success notice
	KindNotBounce  Kind = "not-bounce" // ordinary mail
	KindUnparsable Kind = "unparsable" // nothing could be read
)

// Class is how final a failure is, from the first digit of its RFC 3463
// status code.
type Class string

// The classes of a failure; the zero value is "not a failure".
const (
	ClassHard Class = "hard" // 5.x.x, permanent
	ClassSoft Class = "soft" // 4.x.x, transient
)

// The reasons a recipient failed, from its status code and the words of
// its report.
const (
	ReasonUserUnknown = "user-unknown" // no such mailbox, or a disabled one
	ReasonMailboxFull = "mailbox-full"
	ReasonDomain      = "domain" // no such domain, or no way to reach it
	ReasonPolicy      = "policy" // blocklists, sender reputation, permissions
	ReasonSpam        = "spam"   // the content was refused
	ReasonDMARC       = "dmarc"  // SPF, DKIM or DMARC failed
	ReasonNetwork     = "network"
	ReasonExpired     = "expired" // retried until the queue gave up
	ReasonOther       = "other"
)

// Recipient is what a report says about one recipient.
type Recipient struct {
	// Address is the recipient, lowercased, as the report states it:
	// Final-Recipient, else Original-Recipient, else from the text.
	Address string
	// Action is the RFC 3464 §2.3.3 action (failed, delayed, delivered,
	// relayed, expanded), or the one the text implies. Empty for
	// complaints and automatic replies.
	Action string
	// Status is the RFC 3463 enhanced status code, as reported or,
	// when the report has none, derived from the SMTP reply and text.
	Status     string
	Class      Class
	Reason     string // one of the Reason constants; empty when not a failure
	Scores     bool   // counts against the address (see the package doc)
	Diagnostic string // Diagnostic-Code or the text about it, at most 500 characters
	Rule       string // how the recipient was found: the field or the shape of the text
	// Original is the Original-Recipient a forwarding mailbox reported
	// besides Address (RFC 3464 §2.3.1): the address the sender, Parley,
	// mailed. Empty when the report names no other.
	Original string
}

// Report is what Classify makes of a message.
type Report struct {
	Kind       Kind
	Recipients []Recipient
	// Reporter is a guess at the mailer or provider that wrote the
	// report: postfix, exim, qmail, sendmail, exchange, office365, gmail,
	// yahoo, gmx, mailru, amazonses, sendgrid, googlegroups, domino,
	// opensmtpd, interscan, smtp32, or generic. Empty for ordinary mail
	// and automatic replies.
	Reporter string
	// OriginalMessageID is the Message-ID (without <>) of the returned
	// message, or of the message an automatic reply answers.
	OriginalMessageID string
	// Rule says which rule decided the kind (the format, the field or
	// the words), so that an operator can see why a message was read as
	// it was.
	Rule string
	// FeedbackType is the RFC 5965 Feedback-Type of a complaint,
	// lowercased: abuse, fraud, virus, other, or not-spam (a retraction).
	FeedbackType string
}

const (
	maxText       = 256 << 10 // report text read for recipients and reasons
	maxRecipients = 500
	maxDiagnostic = 500
	maxBlockLines = 40 // text lines kept about one recipient
	// maxPartBytes bounds the parts kept by the parser: reports and the
	// returned message's header are small, and a large attachment of
	// the original is of no use here.
	maxPartBytes = 2 << 20
	maxParts     = 50
)

// Classify reads raw, a message as received, and says what it is. It
// never fails: input that cannot be read is KindUnparsable.
func Classify(raw []byte) (r Report) {
	defer func() {
		// Bounce intake must go on whatever one message holds; the fuzz
		// test calls classify directly, so a panic still fails it.
		if recover() != nil {
			r = Report{Kind: KindUnparsable}
		}
	}()
	return classify(raw)
}

func classify(raw []byte) Report { return classifyAt(raw, 0) }

// classifyAt classifies a message found depth levels down in reports.
func classifyAt(raw []byte, depth int) Report {
	raw = macLineEndings(raw)
	m, err := mailparse.Parse(raw, mailparse.Limits{MaxAttachmentBytes: maxPartBytes, MaxParts: maxParts})
	if err != nil {
		return Report{Kind: KindUnparsable, Rule: "unparsable: " + err.Error()}
	}
	msg := newMessage(raw, m)

	if r, ok := msg.feedbackReport(); ok {
		return r
	}
	if r, ok := msg.sesNotification(); ok {
		return r
	}
	if r, ok := msg.dispositionNotification(); ok {
		return r
	}

	drafts, structural := msg.deliveryStatus()
	rule := "rfc3464: multipart/report with a message/delivery-status part"
	if len(drafts) == 0 && msg.eligible() {
		// Some mailers put the fields of RFC 3464 in the text, or break
		// the MIME structure around them.
		if ds := inlineStatus(msg.fullText); len(ds) > 0 {
			drafts, structural = ds, true
			rule = "rfc3464: delivery-status fields in the text"
		}
	}
	vendor, phrase := msg.signature()
	if !structural {
		var r Report
		if rule, r = msg.unstructured(vendor, phrase); rule == "" {
			return r
		}
	}

	r := Report{Reporter: msg.reporter(vendor), OriginalMessageID: msg.originalMessageID(), Rule: rule}
	ds := msg.merge(drafts)
	if len(ds) == 0 {
		if nested, ok := msg.nestedReport(depth); ok {
			return nested
		}
		ds = msg.returnedRecipients()
	}
	for _, d := range ds {
		r.Recipients = append(r.Recipients, msg.finish(d, r.Reporter, len(ds) == 1))
	}
	r.Kind = kindOf(r.Recipients, msg.delayWording() != "")
	switch r.Kind {
	case KindAutoReply:
		// Only successes were reported: nothing to count, nothing to post.
		r.Reporter = ""
		r.Rule += "; every recipient delivered, relayed or expanded"
	case KindDelayed:
		if w := msg.delayWording(); w != "" {
			r.Rule += "; delay wording \"" + w + "\""
		}
	}
	return r
}

// unstructured decides what a message without the structure of a
// report is: it returns the rule that makes it a report, or "" and the
// report to return (an automatic reply or ordinary mail).
func (msg *message) unstructured(vendor, phrase string) (string, Report) {
	if vendor != "" {
		return "signature of " + vendor + ": \"" + phrase + "\"", Report{}
	}
	switch w := msg.failureWording(); {
	case msg.m.IsAutoReply && !msg.daemon && !(msg.bounceSubjectWord() != "" && w != ""):
		// An RFC 3834 reply from a person's mailbox, though it may
		// come with a null Return-Path as a report does.
		return "", msg.autoReply()
	case msg.eligible() && w != "":
		// A mailer's report in words we do not know by heart.
		return "from a mailer (" + msg.whyEligible() + ") with failure wording \"" + w + "\"", Report{}
	}
	if n := msg.notice(); n != "" {
		return "a failure notice: " + n, Report{}
	}
	if msg.m.IsAutoReply {
		return "", msg.autoReply()
	}
	return "", Report{Kind: KindNotBounce, Rule: "no report structure, no mailer's sender or signature, no failure notice"}
}

// kindOf sums up the recipients' actions: one failure makes a bounce.
func kindOf(rs []Recipient, delayed bool) Kind {
	if len(rs) == 0 {
		if delayed {
			return KindDelayed
		}
		return KindBounce
	}
	kind := KindAutoReply
	for _, rc := range rs {
		switch rc.Action {
		case "failed":
			return KindBounce
		case "delayed":
			kind = KindDelayed
		}
	}
	return kind
}

// macLineEndings turns the lone CRs of a message stored with old Mac
// line endings into LFs. RFC 5322 §2.1 ends lines with CRLF and Unix
// stores LF; a message whose first line ends with a CR alone uses CR
// throughout, and would otherwise read as one endless header line.
func macLineEndings(raw []byte) []byte {
	i := bytes.IndexAny(raw, "\r\n")
	if i < 0 || raw[i] != '\r' || i+1 < len(raw) && raw[i+1] == '\n' {
		return raw
	}
	out := make([]byte, len(raw))
	for j, c := range raw {
		if c == '\r' && (j+1 == len(raw) || raw[j+1] != '\n') {
			c = '\n'
		}
		out[j] = c
	}
	return out
}
