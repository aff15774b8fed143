package webhook

import (
	"encoding/json"
	"time"
)

// sesNotification covers both SES formats: notifications
// ("notificationType", https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html)
// and event publishing ("eventType",
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html).
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Mail             struct {
		Timestamp   string   `json:"timestamp"`
		Destination []string `json:"destination"`
	} `json:"mail"`
	Bounce *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp string `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		Timestamp             string `json:"timestamp"`
	} `json:"complaint"`
	Delivery *struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		Timestamp    string   `json:"timestamp"`
	} `json:"delivery"`
	DeliveryDelay *struct {
		DelayType         string `json:"delayType"`
		DelayedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"delayedRecipients"`
		Timestamp string `json:"timestamp"`
	} `json:"deliveryDelay"`
	Subscription *struct {
		Timestamp           string `json:"timestamp"`
		NewTopicPreferences struct {
			UnsubscribeAll bool `json:"unsubscribeAll"`
		} `json:"newTopicPreferences"`
	} `json:"subscription"`
}

// decodeSESMessage decodes one SES notification, the Message of an SNS
// Notification. base is the SNS MessageId (each event's ID is base + "/" +
// recipient); when "", the SHA-256 of the notification's canonical JSON
// stands for it. snsTime is the fallback for a notification without a time.
//
// Bounce: one event per bouncedRecipients entry; bounceType Permanent is
// hard, Transient and Undetermined soft. Complaint: one complaint per
// complainedRecipients entry, except feedback type "not-spam" (the
// recipient said the mail is not spam). Delivery: one delivery per
// recipient. DeliveryDelay: one delayed event per delayedRecipients
// entry. Subscription (SES list management) with unsubscribeAll: one
// unsubscribe per destination. Other types (Send, Reject, Open, Click,
// AmazonSnsSubscriptionSucceeded…) give nothing.
func decodeSESMessage(msg []byte, base string, snsTime time.Time) ([]Event, error) {
	var n sesNotification
	if err := json.Unmarshal(msg, &n); err != nil {
		return nil, ErrMalformed
	}
	if base == "" {
		base = canonicalID(msg)
	}
	typ := n.NotificationType
	if typ == "" {
		typ = n.EventType
	}
	mailTime := parseTime(n.Mail.Timestamp)
	var out []Event
	add := func(email string, kind Kind, status, diag string, scores bool, at time.Time) {
		e, ok := newEvent(ProviderSES, "", email, kind, status, diag, scores, firstTime(at, snsTime, mailTime))
		if ok {
			e.ID = base + "/" + e.Email
			out = append(out, e)
		}
	}
	switch typ {
	case "Bounce":
		b := n.Bounce
		if b == nil {
			return nil, ErrMalformed
		}
		kind, scores := sesBounce(b.BounceType, b.BounceSubType)
		at := parseTime(b.Timestamp)
		for _, r := range b.BouncedRecipients {
			add(r.EmailAddress, kind, r.Status, r.DiagnosticCode, scores, at)
		}
	case "Complaint":
		c := n.Complaint
		if c == nil {
			return nil, ErrMalformed
		}
		if c.ComplaintFeedbackType == "not-spam" {
			return nil, nil
		}
		at := parseTime(c.Timestamp)
		for _, r := range c.ComplainedRecipients {
			add(r.EmailAddress, KindComplaint, "", c.ComplaintFeedbackType, false, at)
		}
	case "Delivery":
		d := n.Delivery
		if d == nil {
			return nil, ErrMalformed
		}
		rcpts := d.Recipients
		if len(rcpts) == 0 {
			rcpts = n.Mail.Destination
		}
		at := parseTime(d.Timestamp)
		for _, r := range rcpts {
			add(r, KindDelivery, "", d.SMTPResponse, false, at)
		}
	case "DeliveryDelay":
		d := n.DeliveryDelay
		if d == nil {
			return nil, ErrMalformed
		}
		at := parseTime(d.Timestamp)
		for _, r := range d.DelayedRecipients {
			diag := r.DiagnosticCode
			if diag == "" {
				diag = d.DelayType
			}
			add(r.EmailAddress, KindDelayed, r.Status, diag, false, at)
		}
	case "Subscription":
		s := n.Subscription
		if s == nil || !s.NewTopicPreferences.UnsubscribeAll {
			return nil, nil
		}
		at := parseTime(s.Timestamp)
		for _, r := range n.Mail.Destination {
			add(r, KindUnsubscribe, "", "unsubscribed from all topics", false, at)
		}
	}
	return out, nil
}

// sesBounce maps SES bounce types and sub-types
// (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html#bounce-types)
// to a kind and whether it scores. Suppressed and OnAccountSuppressionList
// score: SES will never deliver to the address.
func sesBounce(typ, sub string) (Kind, bool) {
	switch typ {
	case "Permanent":
		return KindHard, true
	case "Transient":
		switch sub {
		case "MessageTooLarge", "ContentRejected", "AttachmentRejected":
			return KindSoft, false
		}
		return KindSoft, true
	}
	// "Undetermined", or a type AWS adds later: a soft bounce weighs least.
	return KindSoft, true
}
