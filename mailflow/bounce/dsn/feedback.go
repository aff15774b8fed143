package dsn

import (
	"strings"
)

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
	r := Report{Kind: KindComplaint, Reporter: msg.reporter(""), OriginalMessageID: msg.originalMessageID(),
		Rule: "rfc5965: message/feedback-report; recipients from Original-Rcpt-To or Removal-Recipient, else the returned message's To"}
	seen := map[string]bool{}
	add := func(a string) {
		if a = cleanAddr(a); a != "" && !seen[a] && len(r.Recipients) < maxRecipients {
			seen[a] = true
			r.Recipients = append(r.Recipients, Recipient{Address: a, Rule: "arf recipient field or the returned message's To"})
		}
	}
	for _, f := range fields {
		switch f.name {
		case "feedback-type":
			r.FeedbackType = strings.ToLower(strings.TrimSpace(f.value))
		case "original-rcpt-to", "removal-recipient":
			// Removal-Recipient is the field of the ARF draft before
			// RFC 5965 (draft-shafranovich-feedback-report), for
			// opt-out reports.
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
		r := Report{Kind: KindAutoReply, OriginalMessageID: msg.originalMessageID(), Rule: "rfc8098: message/disposition-notification (a read receipt)"}
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
