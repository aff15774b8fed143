package dsn

import (
	"strings"

	"github.com/parleymail/parley/mailflow/mailparse"
)

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
	if msg.from == "" {
		// "From: MAILER-DAEMON <>" (DragonFly Mail Agent), or a bare
		// "From: mailer-daemon": a mailer without an address.
		v, _ := h.first("from")
		for _, w := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return strings.ContainsRune(" \t<>\"'(),", r) }) {
			msg.daemon = msg.daemon || isDaemon(w)
		}
	}
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

// whyEligible says what makes the message come from a mailer.
func (msg *message) whyEligible() string {
	switch {
	case msg.nullSender:
		return "null Return-Path"
	case msg.daemon:
		return "sent by a mailer daemon or postmaster"
	case len(msg.failed) > 0:
		return "X-Failed-Recipients"
	case msg.reportType != "":
		return "multipart/report"
	}
	return "Auto-Submitted: " + msg.m.AutoSubmitted
}

// daemonLocals are the local parts mailers send their reports from.
var daemonLocals = map[string]bool{
	"mailer-daemon": true, "mailer_daemon": true, "mailerdaemon": true, "mail-daemon": true,
	"maildaemon": true, "postmaster": true, "mdaemon": true, "mail_daemon": true,
	"post_master": true, "post-master": true,
}

func isDaemon(addr string) bool {
	local, _, _ := strings.Cut(addr, "@")
	return daemonLocals[strings.ToLower(local)]
}

func (msg *message) autoReply() Report {
	r := Report{Kind: KindAutoReply, Rule: "rfc3834: automatic reply (" + msg.autoWhy() + ")"}
	if msg.from != "" {
		r.Recipients = []Recipient{{Address: msg.from}}
	}
	if len(msg.m.InReplyTo) > 0 {
		r.OriginalMessageID = msg.m.InReplyTo[0]
	}
	return r
}

// autoWhy names the header field that marks an automatic reply.
func (msg *message) autoWhy() string {
	if msg.m.AutoSubmitted != "" && msg.m.AutoSubmitted != "no" {
		return "Auto-Submitted: " + msg.m.AutoSubmitted
	}
	return "the parse package's markers of vacation and out-of-office replies"
}

// excluded reports addresses that appear in a report without being
// about a recipient: the mailer's own, and the bounce's addressee (the
// sender of the original, or the list's return address).
func (msg *message) excluded(addr string) bool {
	return isDaemon(addr) || addr == msg.from || msg.to[addr] || addr == msg.returnPath
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
