package dsn

import (
	"strings"
	"unicode/utf8"
)

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

	rc := Recipient{Address: d.addr, Action: d.action, Status: d.status, Rule: d.rule}
	if o := cleanAddr(d.original); o != "" && o != d.addr {
		rc.Original = o
	}
	if rc.Action == "" {
		switch {
		case strings.HasPrefix(rc.Status, "2."):
			rc.Action = "delivered"
		case strings.HasPrefix(rc.Status, "4.") && d.fromDSN:
			// RFC 3464 requires Action; a transient code without one
			// is read as a delay.
			rc.Action = "delayed"
		case !strings.HasPrefix(rc.Status, "5.") && msg.delayWording() != "":
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
		rc.Status = deriveStatus(f.reply, rc.Action, reason, f.phrase)
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
func deriveStatus(reply byte, action, reason, phrase string) string {
	class := byte('5')
	switch {
	case reply == '4' || reply == '5':
		class = reply
	case action == "failed" && reason == ReasonExpired && !strings.Contains(phrase, "retry time"):
		// A mailer that gave up and returned the message has failed for
		// good: nothing will retry it. Exim's "retry timeout exceeded"
		// says more: its spec (chapter "Retry configuration") gives it
		// only after temporary errors, so the failure keeps their class.
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
