package dsn

import (
	"encoding/json"
	"strings"
)

// sesEvent is an Amazon SES notification (the SNS "email-json" delivery
// of a bounce, complaint or delivery event).
type sesEvent struct {
	Type             string // "Notification" when wrapped by SNS
	Message          string
	NotificationType string
	EventType        string
	Bounce           *struct {
		BounceType        string
		BounceSubType     string
		BouncedRecipients []struct {
			EmailAddress   string
			Action         string
			Status         string
			DiagnosticCode string
		}
	}
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string
		}
		ComplaintFeedbackType string
	}
	Mail struct {
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		}
	}
}

// sesSubTypes are the reasons Amazon SES's bounce subtypes stand for.
var sesSubTypes = map[string]string{
	"noemail": ReasonUserUnknown, "mailboxfull": ReasonMailboxFull, "contentrejected": ReasonSpam,
	"attachmentrejected": ReasonSpam, "messagetoolarge": ReasonOther, "suppressed": ReasonUserUnknown,
	"onaccountsuppressionlist": ReasonUserUnknown,
}

// sesNotification reads an SES event mailed as JSON by SNS.
func (msg *message) sesNotification() (Report, bool) {
	t := strings.TrimSpace(msg.fullText)
	if !strings.HasPrefix(t, "{") || !strings.Contains(t, "otificationType") && !strings.Contains(t, "eventType") {
		return Report{}, false
	}
	_, dom, _ := strings.Cut(msg.from, "@")
	_, sns := msg.h.first("x-amz-sns-message-id")
	if !sns && !strings.HasSuffix(dom, "amazonaws.com") && !strings.HasSuffix(dom, "amazonses.com") {
		return Report{}, false
	}
	// Long lines come folded, sometimes with a "!" where they were cut;
	// JSON holds no line breaks of its own inside strings.
	t = strings.ReplaceAll(t, "!\n ", "")
	t = strings.ReplaceAll(t, "\n", "")
	var ev sesEvent
	if json.NewDecoder(strings.NewReader(t)).Decode(&ev) != nil {
		return Report{}, false
	}
	if ev.Type == "Notification" && ev.Message != "" {
		var inner sesEvent
		if json.Unmarshal([]byte(ev.Message), &inner) != nil {
			return Report{}, false
		}
		ev = inner
	}
	typ := strings.ToLower(ev.NotificationType + ev.EventType)
	r := Report{Reporter: "amazonses", OriginalMessageID: msgID(ev.Mail.CommonHeaders.MessageID), Rule: "amazon ses notification json (" + typ + ")"}
	seen := map[string]bool{}
	switch {
	case typ == "complaint" && ev.Complaint != nil:
		r.Kind = KindComplaint
		r.FeedbackType = strings.ToLower(ev.Complaint.ComplaintFeedbackType)
		for _, c := range ev.Complaint.ComplainedRecipients {
			if a := cleanAddr(c.EmailAddress); a != "" && !seen[a] && len(r.Recipients) < maxRecipients {
				seen[a] = true
				r.Recipients = append(r.Recipients, Recipient{Address: a, Rule: "ses complainedRecipients"})
			}
		}
		return r, true
	case typ == "bounce" && ev.Bounce != nil:
		var ds []*draft
		for _, b := range ev.Bounce.BouncedRecipients {
			a := cleanAddr(b.EmailAddress)
			if a == "" || seen[a] || len(ds) >= maxRecipients {
				continue
			}
			seen[a] = true
			d := &draft{addr: a, action: normalizeAction(b.Action), diag: stripType(b.DiagnosticCode), fromDSN: true, alone: true, rule: "ses bouncedRecipients"}
			d.status, _ = splitStatus(b.Status)
			if d.action == "" {
				d.action = "failed"
			}
			d.hint = sesSubTypes[strings.ToLower(ev.Bounce.BounceSubType)]
			if strings.EqualFold(ev.Bounce.BounceType, "transient") {
				d.class = '4'
			}
			ds = append(ds, d)
		}
		for _, d := range ds {
			r.Recipients = append(r.Recipients, msg.finish(d, r.Reporter, len(ds) == 1))
		}
		r.Kind = kindOf(r.Recipients, false)
		return r, true
	case typ == "delivery":
		return Report{Kind: KindAutoReply, Rule: r.Rule}, true
	}
	return Report{}, false
}
