package dsn

import (
	"strings"
	"unicode/utf8"

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

func classify(raw []byte) Report {
	m, err := mailparse.Parse(raw, mailparse.Limits{MaxAttachmentBytes: maxPartBytes, MaxParts: maxParts})
	if err != nil {
		return Report{Kind: KindUnparsable}
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
	if len(drafts) == 0 && msg.eligible() {
		// Some mailers put the fields of RFC 3464 in the text, or break
		// the MIME structure around them.
		if ds := inlineStatus(msg.fullText); len(ds) > 0 {
			drafts, structural = ds, true
		}
	}
	vendor := msg.signature()
	if !structural && vendor == "" {
		switch {
		case msg.m.IsAutoReply && !msg.daemon && !(msg.bounceSubject() && msg.failureWording()):
			// An RFC 3834 reply from a person's mailbox, though it may
			// come with a null Return-Path as a report does.
			return msg.autoReply()
		case msg.eligible() && msg.failureWording():
			// A mailer's report in words we do not know by heart.
		case msg.m.IsAutoReply:
			return msg.autoReply()
		default:
			return Report{Kind: KindNotBounce}
		}
	}

	r := Report{Reporter: msg.reporter(vendor), OriginalMessageID: msg.originalMessageID()}
	ds := msg.merge(drafts)
	for _, d := range ds {
		r.Recipients = append(r.Recipients, msg.finish(d, r.Reporter, len(ds) == 1))
	}
	r.Kind = kindOf(r.Recipients, msg.delayWording())
	if r.Kind == KindAutoReply {
		// Only successes were reported: nothing to count, nothing to post.
		r.Reporter = ""
	}
	return r
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

// ---- the message -------------------------------------------------------------

// message is the received message as the classifier looks at it.
type message struct {
	m          *mailparse.Message
	h          header
	from       string          // lowercased address of From
	to         map[string]bool // lowercased addresses of To
	returnPath string          // lowercased; "" when null
	nullSender bool            // Return-Path: <> (RFC 5321 §4.5.5)
	daemon     bool            // From or Return-Path is a mailer, not a person
	reportType string          // report-type of a top-level multipart/report
	failed     []string        // X-Failed-Recipients (Exim, Gmail)
	subject    string          // lowercased

	fullText  string   // all the text parts
	text      string   // the report's own text: fullText up to the returned message
	lower     string   // text, lowercased
	lines     []string // text, by line
	original  string   // text after the marker of the returned message, if any
	dsnLower  string   // the delivery-status parts, lowercased (for the reporter)
	wholeOnce bool
	whole     facts // what the report text as a whole says
}

func newMessage(raw []byte, m *mailparse.Message) *message {
	h := readHeader(raw)
	msg := &message{m: m, h: h, to: map[string]bool{}, subject: strings.ToLower(m.Subject)}
	msg.from = cleanAddr(m.FromAddress)
	for _, a := range m.To {
		if a = cleanAddr(a); a != "" {
			msg.to[a] = true
		}
	}
	if rp, ok := h.first("return-path"); ok {
		rp = strings.TrimSpace(rp)
		inner := strings.Trim(rp, "<> \t")
		msg.nullSender = inner == ""
		msg.returnPath = strings.ToLower(inner)
	}
	msg.daemon = isDaemon(msg.from) || isDaemon(msg.returnPath)
	if ct, ok := h.first("content-type"); ok {
		mt, params := mediaType(ct)
		if mt == "multipart/report" {
			msg.reportType = strings.ToLower(params["report-type"])
			if msg.reportType == "" {
				msg.reportType = "unknown"
			}
		}
	}
	for _, v := range h.all("x-failed-recipients") {
		for _, a := range strings.Split(v, ",") {
			if a = cleanAddr(a); a != "" && len(msg.failed) < maxRecipients {
				msg.failed = append(msg.failed, a)
			}
		}
	}

	msg.fullText = m.Text
	if len(msg.fullText) > maxText {
		msg.fullText = validPrefix(msg.fullText, maxText)
	}
	msg.text, msg.original = splitOriginal(msg.fullText)
	msg.lower = strings.ToLower(msg.text)
	msg.lines = strings.Split(msg.text, "\n")
	return msg
}

// eligible reports whether the message comes from a mailer, so that its
// text may be read as a report even without the structure of one.
func (msg *message) eligible() bool {
	return msg.nullSender || msg.daemon || len(msg.failed) > 0 || msg.reportType != "" ||
		strings.Contains(msg.m.AutoSubmitted, "failure")
}

// daemonLocals are the local parts mailers send their reports from.
var daemonLocals = map[string]bool{
	"mailer-daemon": true, "mailer_daemon": true, "mailerdaemon": true, "mail-daemon": true,
	"maildaemon": true, "postmaster": true, "mdaemon": true, "mail_daemon": true,
}

func isDaemon(addr string) bool {
	local, _, _ := strings.Cut(addr, "@")
	return daemonLocals[strings.ToLower(local)]
}

func (msg *message) autoReply() Report {
	r := Report{Kind: KindAutoReply}
	if msg.from != "" {
		r.Recipients = []Recipient{{Address: msg.from}}
	}
	if len(msg.m.InReplyTo) > 0 {
		r.OriginalMessageID = msg.m.InReplyTo[0]
	}
	return r
}

// excluded reports addresses that appear in a report without being
// about a recipient: the mailer's own, and the bounce's addressee (the
// sender of the original, or the list's return address).
func (msg *message) excluded(addr string) bool {
	return isDaemon(addr) || addr == msg.from || msg.to[addr] || addr == msg.returnPath
}

// ---- RFC 3464 ------------------------------------------------------------------

// draft is a recipient being read.
type draft struct {
	final, original string // as stated by Final-Recipient and Original-Recipient (or the text)
	addr            string // the one reported
	action          string
	status          string // the code alone
	statusNote      string // the comment after the code, "(mailbox full)"
	diag            string // Diagnostic-Code without its type
	lines           []string
	fromDSN         bool
	hint            string // the reason the report's form gives, when its words give none
	class           byte   // the class the report's form gives, when it has no code
	alone           bool   // the report's text is not about this recipient (SES JSON)
}

// deliveryStatus reads the message/delivery-status parts (RFC 3464 §2).
// structural reports that the message is built as a delivery report,
// even one that names no recipient.
func (msg *message) deliveryStatus() (ds []*draft, structural bool) {
	structural = msg.reportType == "delivery-status"
	for _, a := range msg.m.Attachments {
		switch a.ContentType {
		case "message/delivery-status", "message/global-delivery-status":
			structural = true
			ds = append(ds, statusDrafts(string(a.Data))...)
			if len(msg.dsnLower) < maxText {
				msg.dsnLower += strings.ToLower(string(a.Data[:min(len(a.Data), maxText)]))
			}
		}
	}
	return capDrafts(ds), structural
}

// inlineStatus reads delivery-status fields written into the text.
func inlineStatus(text string) []*draft {
	lower := strings.ToLower(text)
	start := -1
	for _, f := range []string{"\nreporting-mta:", "\nfinal-recipient:", "\noriginal-recipient:"} {
		if i := strings.Index("\n"+lower, f); i >= 0 && (start < 0 || i < start) {
			start = i
		}
	}
	if start < 0 {
		return nil
	}
	return capDrafts(statusDrafts(text[start:]))
}

func capDrafts(ds []*draft) []*draft {
	if len(ds) > maxRecipients {
		ds = ds[:maxRecipients]
	}
	return ds
}

// statusDrafts reads the per-recipient groups of a delivery-status body.
func statusDrafts(body string) []*draft {
	var ds []*draft
	for _, g := range fieldGroups(body) {
		var d *draft
		for _, f := range g {
			switch f.name {
			case "final-recipient", "original-recipient":
				// A second recipient field in one group is a mailer that
				// forgot the blank line between recipients.
				if d == nil || (f.name == "final-recipient" && d.final != "") {
					d = &draft{fromDSN: true}
					ds = append(ds, d)
				}
				if f.name == "final-recipient" {
					d.final = recipientField(f.value)
				} else {
					d.original = recipientField(f.value)
				}
			case "action":
				if d == nil {
					// Action before the recipient (Amazon SES, Exim).
					d = &draft{fromDSN: true}
					ds = append(ds, d)
				}
				d.action = normalizeAction(f.value)
			case "status":
				if d == nil {
					d = &draft{fromDSN: true}
					ds = append(ds, d)
				}
				d.status, d.statusNote = splitStatus(f.value)
			case "diagnostic-code":
				if d == nil {
					d = &draft{fromDSN: true}
					ds = append(ds, d)
				}
				d.diag = stripType(f.value)
			}
		}
	}
	// Groups that named no recipient at all (a per-message group with a
	// stray Action) are not recipients.
	out := ds[:0]
	for _, d := range ds {
		if d.final != "" || d.original != "" || d.action != "" && d.status != "" {
			out = append(out, d)
		}
	}
	for _, d := range out {
		d.addr = pickAddress(d.final, d.original)
	}
	return out
}

// recipientField reads "rfc822; user@example.org" (RFC 3464 §2.3.2); the
// address type is not checked, the address is.
func recipientField(v string) string {
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	return strings.TrimSpace(v)
}

// pickAddress prefers Final-Recipient, unless it is no address on the
// Internet (a local path, a host without a domain) and Original-Recipient
// is.
func pickAddress(final, original string) string {
	if a := cleanAddr(final); a != "" {
		return a
	}
	return cleanAddr(original)
}

func normalizeAction(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, " \t(;"); i >= 0 {
		v = v[:i]
	}
	switch v {
	case "failure", "fail":
		return "failed"
	case "delay":
		return "delayed"
	}
	return v
}

// splitStatus splits "5.0.0 (permanent failure)" into the code and the
// comment, which often says more than the code.
func splitStatus(v string) (code, note string) {
	v = strings.TrimSpace(v)
	tok, rest, _ := strings.Cut(v, " ")
	if c := enhancedCode(tok); c != "" {
		return c, strings.TrimSpace(rest)
	}
	return enhancedCode(v), v
}

// stripType drops the diagnostic type of RFC 3464 §2.3.6 ("smtp;").
func stripType(v string) string {
	v = strings.TrimSpace(v)
	if t, rest, ok := strings.Cut(v, ";"); ok && len(t) <= 20 && !strings.ContainsAny(t, " \t") {
		return strings.TrimSpace(rest)
	}
	return v
}

// ---- RFC 5965 and RFC 8098 ---------------------------------------------------------

// feedbackReport reads an abuse report (RFC 5965 §3).
func (msg *message) feedbackReport() (Report, bool) {
	var fields []field
	found := msg.reportType == "feedback-report"
	for _, a := range msg.m.Attachments {
		if a.ContentType == "message/feedback-report" {
			found = true
			for _, g := range fieldGroups(string(a.Data)) {
				fields = append(fields, g...)
			}
		}
	}
	if !found {
		return Report{}, false
	}
	r := Report{Kind: KindComplaint, Reporter: msg.reporter(""), OriginalMessageID: msg.originalMessageID()}
	seen := map[string]bool{}
	add := func(a string) {
		if a = cleanAddr(a); a != "" && !seen[a] && len(r.Recipients) < maxRecipients {
			seen[a] = true
			r.Recipients = append(r.Recipients, Recipient{Address: a})
		}
	}
	for _, f := range fields {
		switch f.name {
		case "feedback-type":
			r.FeedbackType = strings.ToLower(strings.TrimSpace(f.value))
		case "original-rcpt-to":
			add(f.value)
		}
	}
	if len(r.Recipients) == 0 {
		// The complaint is about whoever received the returned message.
		if h, ok := msg.returnedHeader(); ok {
			for _, v := range h.all("to") {
				for _, a := range addressList(v) {
					add(a)
				}
			}
		}
	}
	return r, true
}

// dispositionNotification reads a read receipt (RFC 8098): automatic
// mail about one recipient, never a failure.
func (msg *message) dispositionNotification() (Report, bool) {
	for _, a := range msg.m.Attachments {
		if a.ContentType != "message/disposition-notification" {
			continue
		}
		r := Report{Kind: KindAutoReply, OriginalMessageID: msg.originalMessageID()}
		for _, g := range fieldGroups(string(a.Data)) {
			for _, f := range g {
				if f.name == "original-message-id" && r.OriginalMessageID == "" {
					r.OriginalMessageID = msgID(f.value)
				}
				if f.name == "final-recipient" && len(r.Recipients) == 0 {
					if addr := cleanAddr(recipientField(f.value)); addr != "" {
						r.Recipients = []Recipient{{Address: addr}}
					}
				}
			}
		}
		return r, true
	}
	return Report{}, false
}

// ---- the returned message ------------------------------------------------------

// returnedHeader is the header of the returned message: an attached
// message/rfc822 or text/rfc822-headers part (RFC 6522 §3), else the
// copy after the report's text.
func (msg *message) returnedHeader() (header, bool) {
	for _, a := range msg.m.Attachments {
		switch a.ContentType {
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
			if h := readHeader(a.Data); len(h) > 0 {
				return h, true
			}
		}
	}
	if msg.original != "" {
		if h := readHeader([]byte(strings.TrimLeft(msg.original, " \t\r\n"))); len(h) > 0 {
			return h, true
		}
	}
	return nil, false
}

func (msg *message) originalMessageID() string {
	if h, ok := msg.returnedHeader(); ok {
		if v, ok := h.first("message-id"); ok {
			return msgID(v)
		}
	}
	return ""
}

func msgID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	return v
}

// ---- recipients ------------------------------------------------------------------

// merge joins the recipients of the delivery-status fields with what the
// report's text says about them, and reads recipients from the text when
// the fields name none.
func (msg *message) merge(ds []*draft) []*draft {
	blocks := scanText(msg.lines, msg.excluded)

	// Fields whose address is no address (Exim reports a delivery to a
	// file by its path) take the address Exim lists in X-Failed-Recipients.
	used := map[string]bool{}
	for _, d := range ds {
		if d.addr != "" {
			used[d.addr] = true
		}
	}
	var spare []string
	for _, a := range msg.failed {
		if !used[a] {
			spare = append(spare, a)
		}
	}
	for _, b := range blocks {
		if !used[b.addr] && !contains(spare, b.addr) && len(msg.failed) == 0 {
			spare = append(spare, b.addr)
		}
	}
	for _, d := range ds {
		if d.addr == "" && len(spare) > 0 {
			d.addr, spare = spare[0], spare[1:]
		}
	}
	kept := ds[:0]
	for _, d := range ds {
		if d.addr != "" {
			kept = append(kept, d)
		}
	}
	ds = kept

	if len(ds) == 0 {
		if len(msg.failed) > 0 {
			// Exim and Gmail list the failed recipients in a header;
			// it is more reliable than any reading of their text.
			for _, a := range msg.failed {
				ds = append(ds, &draft{addr: a})
			}
		} else {
			seen := map[string]bool{}
			for _, b := range blocks {
				a := b.addr
				if b.orig != "" {
					// The text names the address Parley sent to as the
					// one it was expanded from.
					a = b.orig
				}
				if !seen[a] && len(ds) < maxRecipients {
					seen[a] = true
					ds = append(ds, &draft{addr: a})
				}
			}
		}
	}

	// Give each recipient the text about it.
	byAddr := map[string]*draft{}
	for _, d := range ds {
		for _, a := range []string{d.addr, cleanAddr(d.final), cleanAddr(d.original)} {
			if a != "" && byAddr[a] == nil {
				byAddr[a] = d
			}
		}
	}
	var unmatched []textBlock
	for _, b := range blocks {
		d := byAddr[b.addr]
		if d == nil && b.orig != "" {
			d = byAddr[b.orig]
		}
		if d == nil {
			unmatched = append(unmatched, b)
			continue
		}
		d.lines = appendLines(d.lines, b.lines)
	}
	if len(ds) == 1 && len(unmatched) == 1 && len(ds[0].lines) == 0 {
		ds[0].lines = appendLines(ds[0].lines, unmatched[0].lines)
	}
	// A recipient the text says nothing about under its name may still
	// be named where the text says what went wrong.
	var named map[string][]string
	for _, d := range ds {
		if len(d.lines) > 0 || d.diag != "" {
			continue
		}
		if named == nil {
			named = mentions(msg.lines)
		}
		d.lines = appendLines(d.lines, named[d.addr])
	}
	return ds
}

// appendLines adds src to dst, up to maxBlockLines, leaving out lines
// dst already has (mail.ru says everything twice, in two languages).
func appendLines(dst, src []string) []string {
	for _, l := range src {
		if len(dst) >= maxBlockLines {
			break
		}
		if !contains(dst, l) {
			dst = append(dst, l)
		}
	}
	return dst
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// facts are what a piece of report text says.
type facts struct {
	reason string // from the words
	phrase string // the words that gave reason
	code   string // the first enhanced status code
	reply  byte   // first digit of the first 4xx or 5xx SMTP reply, or 0
}

func factsOf(s string) facts {
	lower := strings.ToLower(s)
	var f facts
	f.reason, f.phrase = reasonIn(lower)
	f.code = failureCode(s)
	f.reply = replyClass(s)
	return f
}

// wholeFacts reads the report's text as a whole, once.
func (msg *message) wholeFacts() facts {
	if !msg.wholeOnce {
		msg.wholeOnce = true
		msg.whole = factsOf(msg.text)
	}
	return msg.whole
}

// finish turns a draft into a Recipient: action, status, class, reason.
func (msg *message) finish(d *draft, reporter string, single bool) Recipient {
	own := strings.TrimSpace(strings.Join(append([]string{d.diag, d.statusNote}, d.lines...), "\n"))
	f := factsOf(own)
	// The text around the recipients speaks for a recipient that has no
	// words of its own, or for the only one.
	if (own == "" || single) && !d.alone {
		w := msg.wholeFacts()
		if f.reason == "" {
			f.reason, f.phrase = w.reason, w.phrase
		}
		if f.code == "" {
			f.code = w.code
		}
		if f.reply == 0 {
			f.reply = w.reply
		}
	}

	rc := Recipient{Address: d.addr, Action: d.action, Status: d.status}
	if rc.Action == "" {
		switch {
		case strings.HasPrefix(rc.Status, "2."):
			rc.Action = "delivered"
		case strings.HasPrefix(rc.Status, "4.") && d.fromDSN:
			// RFC 3464 requires Action; a transient code without one
			// is read as a delay.
			rc.Action = "delayed"
		case !strings.HasPrefix(rc.Status, "5.") && msg.delayWording():
			rc.Action = "delayed"
		default:
			rc.Action = "failed"
		}
	}
	if rc.Action != "failed" && rc.Action != "delayed" && (rc.Status == "" || rc.Status[0] == '2') {
		// delivered, relayed, expanded: no failure to explain.
		rc.Diagnostic = diagnostic(d.diag)
		return rc
	}

	if strings.HasPrefix(rc.Status, "2.") {
		rc.Status = "" // a success code on a failure says nothing
	}
	reason := f.reason
	if reason == "" {
		reason = d.hint
	}
	if reason == "" && reporter == "googlegroups" {
		// Google Groups refuses posts from non-members and to
		// groups that are gone alike, in the reader's language.
		reason = ReasonPolicy
	}
	if f.reply == 0 {
		f.reply = d.class
	}
	if rc.Status == "" {
		rc.Status = f.code
	}
	if reason == "" {
		reason = reasonOfStatus(rc.Status)
	}
	if rc.Status == "" {
		rc.Status = deriveStatus(f.reply, rc.Action, reason)
	}
	if reason == "" {
		reason = ReasonOther
	}
	rc.Reason = reason
	switch rc.Status[0] {
	case '5':
		rc.Class = ClassHard
	case '4':
		rc.Class = ClassSoft
	}
	rc.Scores = rc.Action == "failed" && reason != ReasonPolicy && reason != ReasonSpam && reason != ReasonDMARC &&
		!strings.HasPrefix(rc.Status, "5.7.") && !strings.HasPrefix(rc.Status, "4.7.")

	switch {
	case d.diag != "":
		rc.Diagnostic = diagnostic(d.diag)
	case len(d.lines) > 0:
		rc.Diagnostic = diagnostic(strings.Join(d.lines, " "))
	case d.statusNote != "":
		rc.Diagnostic = diagnostic(d.statusNote)
	case f.phrase != "" && !d.alone:
		rc.Diagnostic = diagnostic(lineWith(msg.text, msg.lower, f.phrase))
	}
	return rc
}

// deriveStatus makes an RFC 3463 code for a report that gives none: the
// class from the SMTP reply, else from the action and reason, the detail
// from the reason.
func deriveStatus(reply byte, action, reason string) string {
	class := byte('5')
	switch {
	case reply == '4' || reply == '5':
		class = reply
	case action == "delayed", reason == ReasonExpired, reason == ReasonNetwork:
		// A mailer that gives up after retrying a transient failure
		// has still met a transient failure.
		class = '4'
	}
	detail := map[string]string{
		ReasonUserUnknown: "1.1", ReasonMailboxFull: "2.2", ReasonDomain: "1.2",
		ReasonExpired: "4.7", ReasonNetwork: "4.0", ReasonPolicy: "7.1", ReasonSpam: "7.1",
		ReasonDMARC: "7.26",
	}[reason]
	if detail == "" {
		detail = "0.0"
	}
	return string(class) + "." + detail
}

// reasonOfStatus reads the subject and detail of an enhanced status code
// (RFC 3463 §3, RFC 7372 for the authentication codes).
func reasonOfStatus(code string) string {
	if len(code) < 5 {
		return ""
	}
	_, sd, _ := strings.Cut(code, ".")
	switch sd {
	case "1.1", "1.0", "1.3", "1.6", "1.10", "2.1":
		return ReasonUserUnknown
	case "1.2", "4.4":
		return ReasonDomain
	case "2.2":
		return ReasonMailboxFull
	case "4.7":
		return ReasonExpired
	case "7.20", "7.21", "7.22", "7.23", "7.24", "7.26":
		return ReasonDMARC
	}
	switch {
	case strings.HasPrefix(sd, "4."):
		return ReasonNetwork
	case strings.HasPrefix(sd, "7."):
		return ReasonPolicy
	}
	return ""
}

// diagnostic tidies a diagnostic for display: one line, at most
// maxDiagnostic characters, valid UTF-8.
func diagnostic(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if utf8.RuneCountInString(s) > maxDiagnostic {
		n := 0
		for i := range s {
			if n == maxDiagnostic {
				s = s[:i]
				break
			}
			n++
		}
	}
	return s
}

// lineWith returns the line of text whose lowercase form holds needle.
func lineWith(text, lower, needle string) string {
	i := strings.Index(lower, needle)
	if i < 0 || len(lower) != len(text) {
		return ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		return text[start:]
	}
	return text[start : i+end]
}

// ---- codes -------------------------------------------------------------------------

// enhancedCode finds the first RFC 3463 status code in s: class 2, 4 or
// 5, subject and detail of one to three digits, standing alone (so that
// IP addresses and version numbers are not read as codes).
func enhancedCode(s string) string {
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' || s[i+1] != '.' {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.' || isLetter(s[i-1])) {
			continue
		}
		j := i + 2
		n := digits(s, j)
		if n < 1 || n > 3 || j+n >= len(s) || s[j+n] != '.' {
			continue
		}
		k := j + n + 1
		m := digits(s, k)
		if m < 1 || m > 3 {
			continue
		}
		end := k + m
		if end < len(s) && (isLetter(s[end]) || s[end] == '.' && end+1 < len(s) && isDigit(s[end+1])) {
			continue
		}
		return s[i:end]
	}
	return ""
}

// failureCode finds the first enhanced status code of class 4 or 5 in
// s: the transcript of a failed session also holds the successes before
// the failure ("250 2.1.0 Sender ok").
func failureCode(s string) string {
	for s != "" {
		c := enhancedCode(s)
		if c == "" || c[0] != '2' {
			return c
		}
		s = s[strings.Index(s, c)+len(c):]
	}
	return ""
}

// replyClass finds the first 4xx or 5xx SMTP reply code (RFC 5321
// §4.2) in s and returns its first digit.
func replyClass(s string) byte {
	for i := 0; i+3 <= len(s); i++ {
		c := s[i]
		if c != '4' && c != '5' || !isDigit(s[i+1]) || s[i+1] > '5' || !isDigit(s[i+2]) {
			continue
		}
		if i > 0 && !strings.ContainsRune(" \t\n([:;#-\"'<", rune(s[i-1])) {
			continue
		}
		if e := i + 3; e < len(s) && !strings.ContainsRune(" \t\n-),;:", rune(s[e])) {
			continue
		}
		return c
	}
	return 0
}

func digits(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// ---- addresses ---------------------------------------------------------------------

// cleanAddr returns s as a lowercased mailbox address, or "" when it is
// none: a local part and a domain with at least one dot (or an address
// literal), without spaces. Angle brackets, quotes and trailing
// punctuation are dropped first.
func cleanAddr(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "<\"'(")
	s = strings.TrimRight(s, ">\"'):;,.")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "mailto:"), "MAILTO:")
	if len(s) < 5 || len(s) > 254 {
		return ""
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	local, domain := s[:at], strings.ToLower(s[at+1:])
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c <= ' ' || c == 0x7f || strings.IndexByte("<>()[],;:\\\"@", c) >= 0 {
			return ""
		}
	}
	if local[0] == '.' || local[len(local)-1] == '.' {
		return ""
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		return strings.ToLower(local) + "@" + domain
	}
	if !strings.Contains(domain, ".") || strings.Contains(domain, "..") ||
		domain[0] == '.' || domain[0] == '-' || domain[len(domain)-1] == '-' {
		return ""
	}
	for i := 0; i < len(domain); i++ {
		c := domain[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c == '-' || c == '.' || c >= 0x80) {
			return ""
		}
	}
	return strings.ToLower(local) + "@" + domain
}

// addressList reads the addresses of an address-list field (RFC 5322
// §3.4) well enough for reports: each comma-separated element's address
// in angle brackets, or the element itself.
func addressList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if i := strings.IndexByte(part, '<'); i >= 0 {
			if j := strings.IndexByte(part[i:], '>'); j > 0 {
				part = part[i+1 : i+j]
			}
		}
		if a := cleanAddr(part); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// ---- header fields --------------------------------------------------------------------

type field struct {
	name  string // lowercased
	value string
}

type header []field

func (h header) first(name string) (string, bool) {
	for _, f := range h {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}

func (h header) all(name string) []string {
	var vs []string
	for _, f := range h {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// readHeader reads the header fields at the start of b (RFC 5322 §2.2),
// unfolded, up to the blank line or the first line that is not a field.
// An mbox "From " line before them is skipped.
func readHeader(b []byte) header {
	if len(b) > 1<<20 {
		b = b[:1<<20]
	}
	s := string(b)
	if strings.HasPrefix(s, "From ") {
		_, s, _ = strings.Cut(s, "\n")
	}
	var h header
	// The value being unfolded grows in cur: appending to a string would
	// make a field folded over many lines quadratic.
	var cur strings.Builder
	finish := func() {
		if len(h) > 0 {
			h[len(h)-1].value = strings.TrimSpace(cur.String())
		}
		cur.Reset()
	}
	for s != "" {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) == 0 {
				break
			}
			cur.WriteByte(' ')
			cur.WriteString(strings.TrimSpace(line))
			continue
		}
		name, value, ok := splitField(line)
		if !ok {
			break
		}
		finish()
		h = append(h, field{name: name})
		cur.WriteString(value)
	}
	finish()
	return h
}

func splitField(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	n := strings.TrimRight(line[:i], " \t")
	if n == "" {
		return "", "", false
	}
	for j := 0; j < len(n); j++ {
		if c := n[j]; c < 33 || c > 126 {
			return "", "", false
		}
	}
	return strings.ToLower(n), line[i+1:], true
}

// fieldGroups splits a body of report fields (RFC 3464 §2.1, RFC 5965
// §3.1) into its groups: blank lines separate groups, and a line that is
// not a field ends the current one (a stray boundary, a copy of the
// returned message).
func fieldGroups(body string) [][]field {
	var groups [][]field
	var cur []field
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
			cur = nil
		}
	}
	for n := 0; body != "" && n < 10000; n++ {
		var line string
		line, body, _ = strings.Cut(body, "\n")
		line = strings.TrimSuffix(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if len(cur) > 0 && len(cur[len(cur)-1].value) < 4096 {
				cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := splitField(line)
			if !ok {
				flush()
				continue
			}
			cur = append(cur, field{name: name, value: strings.TrimSpace(value)})
		}
	}
	flush()
	return groups
}

// mediaType reads a Content-Type value: the lowercased type and its
// parameters (names lowercased, quotes removed).
func mediaType(v string) (string, map[string]string) {
	parts := strings.Split(v, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), "\"")
	}
	return strings.ToLower(strings.TrimSpace(parts[0])), params
}

// validPrefix cuts s to at most n bytes without splitting a character.
func validPrefix(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
