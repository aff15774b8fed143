package dsn

import (
	"strings"
)

// signatures are what mailers write at the start of their reports. Found
// in the first lines of the text, unquoted, they make a message a report
// whoever sent it: the mailers that send them are not people.
var signatures = []struct{ phrase, reporter string }{
	{"this is the mail system at host", "postfix"},
	{"this is the postfix program at host", "postfix"},
	{"this is an automatically generated message from sendgrid", "sendgrid"},
	{"this message was created automatically by mail delivery software", "exim"},
	{"hi. this is the qmail-send program", "qmail"},
	{"delivery has failed to these recipients", "exchange"},
	{"did not reach the following recipient", "exchange"},
	{"delivery to the following recipient failed permanently", "gmail"},
	{"delivery to the following recipients failed permanently", "gmail"},
	{"delivery to the following recipient has been delayed", "gmail"},
	{"----- the following addresses had permanent fatal errors -----", "sendmail"},
	{"----- the following addresses had transient non-fatal errors -----", "sendmail"},
	{"this is the mailer-daemon, please do not reply to this e-mail", "opensmtpd"},
	{"message from interscan e-mail viruswall", "interscan"},
	{"sorry, we were unable to deliver your message to the following address", "yahoo"},
	{"not listed in domino directory", "domino"},
	{"this is the dragonfly mail agent", "dma"},
}

const signatureLines = 40

// forwardSubjects and forwardMarkers are how people pass a report on.
var (
	forwardSubjects = []string{"fwd:", "fw:", "tr:", "wg:", "rv:", "doorst:", "vs:", "enc:", "fwd "}
	forwardMarkers  = []string{"forwarded message", "begin forwarded message", "original message", "weitergeleitete nachricht", "message transféré"}
)

// signature returns the mailer whose words open the report, or "". A
// report forwarded by a person, even unquoted, is the person's message.
func (msg *message) signature() (vendor, phrase string) {
	for _, p := range forwardSubjects {
		if strings.HasPrefix(msg.subject, p) && !msg.eligible() {
			return "", ""
		}
	}
	n := 0
	for _, line := range msg.lines {
		t := strings.TrimSpace(line)
		if t == "" {
			continue
		}
		if n++; n > signatureLines {
			break
		}
		if t[0] == '>' || t[0] == '|' {
			continue // quoted: someone showing a report, not a report
		}
		lt := strings.ToLower(t)
		if !msg.eligible() && (t[0] == '-' || t[0] == '_' || t[0] == '=') {
			for _, m := range forwardMarkers {
				if strings.Contains(lt, m) {
					return "", ""
				}
			}
		}
		for _, s := range signatures {
			if strings.Contains(lt, s.phrase) {
				return s.reporter, s.phrase
			}
		}
		if b := banner(t, lt); b != "" {
			return "generic", b
		}
	}
	return "", ""
}

// bannerWords, in a banner line ("------ Failed Recipients ------",
// "---The following addresses had delivery errors---"), head the list of
// failed recipients of a mailer's report.
var bannerWords = []string{"failed recipient", "following addresses had", "following recipients", "undeliverable recipient"}

// banner returns the words of a banner line that heads a report's list
// of failed recipients: framed by a run of dashes, stars or equals signs
// on both sides.
func banner(t, lt string) string {
	if len(t) < 10 || strings.IndexByte("-*=", t[0]) < 0 || t[len(t)-1] != t[0] || !strings.HasPrefix(t, strings.Repeat(t[:1], 3)) {
		return ""
	}
	for _, w := range bannerWords {
		if strings.Contains(lt, w) {
			return t
		}
	}
	return ""
}

// reporter guesses the mailer or provider that wrote a report, from its
// sender, its header fields and its words; vendor is the one whose
// signature opens it.
func (msg *message) reporter(vendor string) string {
	has := func(s string) bool { return strings.Contains(msg.lower, s) }
	hdr := func(name string) bool { _, ok := msg.h.first(name); return ok }
	_, dom, _ := strings.Cut(msg.from, "@")
	mailer, _ := msg.h.first("x-mailer")
	received := strings.ToLower(strings.Join(msg.h.all("received"), " "))
	googleGroup := false
	for _, a := range msg.failed {
		googleGroup = googleGroup || strings.HasSuffix(a, "@googlegroups.com")
	}
	switch {
	case hdr("x-ses-outgoing") || hdr("x-amz-sns-message-id") || strings.HasSuffix(dom, "amazonses.com") || strings.HasSuffix(dom, "amazonaws.com"):
		return "amazonses"
	case vendor == "sendgrid" || has("sendgrid"):
		return "sendgrid"
	case googleGroup || has("google groups") || has("groups.google.com"):
		return "googlegroups"
	case dom == "googlemail.com" || dom == "google.com" || dom == "gmail.com" || vendor == "gmail" || has("google tried to deliver"):
		return "gmail"
	case has("office 365") || has(".prod.outlook.com") || strings.Contains(dom, "outlook.") ||
		strings.Contains(dom, "hotmail.") || strings.Contains(dom, "office365"):
		return "office365"
	case vendor == "exchange" || hdr("x-ms-embedded-report") || hdr("x-ms-exchange-message-is-ndr") ||
		has("microsoft exchange") || has("msexch"):
		return "exchange"
	case strings.HasSuffix(dom, "mail.ru") || has("сервером mail.ru"):
		return "mailru"
	case strings.Contains(dom, "gmx.") || has("the header of the original message is following"):
		return "gmx"
	case strings.Contains(dom, "yahoo.") || vendor == "yahoo" || has("message from yahoo.com"):
		return "yahoo"
	case vendor == "qmail" || has("qmail-send program"):
		return "qmail"
	case vendor == "domino" || has("domino directory") || has("name & address book"):
		return "domino"
	case vendor == "opensmtpd" || strings.Contains(received, "opensmtpd"):
		return "opensmtpd"
	case vendor == "postfix" || strings.Contains(msg.dsnLower, "x-postfix"):
		return "postfix"
	case vendor == "exim" || len(msg.failed) > 0:
		return "exim"
	case vendor == "sendmail" || has("transcript of session follows") || has("the original message was received at"):
		return "sendmail"
	case vendor != "":
		return vendor
	case strings.Contains(strings.ToLower(mailer), "smtp32"):
		return "smtp32"
	}
	return "generic"
}
