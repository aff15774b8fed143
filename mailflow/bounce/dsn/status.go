package dsn

import (
	"strings"
)

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
	rule            string // how the recipient was found, for an operator
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
		d.addr, d.rule = pickAddress(d.final, d.original)
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

// pickAddress picks the address a recipient's group reports: the
// Final-Recipient, unless it is no address on the Internet (a local
// path, a host without a domain) and Original-Recipient is. When a
// forwarding mailbox reports both, Original-Recipient (RFC 3464 §2.3.1,
// the ORCPT of RFC 3461) is the address as the sender gave it: finish
// keeps it as the Recipient's Original, the address Parley mailed.
func pickAddress(final, original string) (addr, rule string) {
	f, o := cleanAddr(final), cleanAddr(original)
	switch {
	case f != "" && o != "" && o != f:
		return f, "rfc3464 Final-Recipient (Original-Recipient " + o + ": forwarded)"
	case f != "":
		return f, "rfc3464 Final-Recipient"
	case o != "":
		return o, "rfc3464 Original-Recipient (Final-Recipient is no address)"
	}
	return "", "rfc3464 fields without an address"
}

func normalizeAction(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, " \t(;"); i >= 0 {
		v = v[:i]
	}
	switch v {
	case "failure", "fail", "expired":
		// SendGrid writes "Action: expired" for a message it stopped
		// retrying: not a value of RFC 3464 §2.3.3, but a failure.
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
