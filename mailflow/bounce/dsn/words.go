package dsn

import (
	"regexp"
	"strings"
)

// failureWords tell a mailer's failure report in text we do not know by
// heart; they count only for mail that comes from a mailer.
var failureWords = []string{
	"could not be delivered", "couldn't be delivered", "could not deliver", "unable to deliver",
	"undeliverable", "undelivered", "not delivered", "delivery failed", "delivery failure",
	"delivery has failed", "failed permanently", "permanent error", "fatal error", "returned mail",
	"did not reach", "did not receive your message", "user unknown", "unknown user", "no such user",
	"addressee unknown", "mailbox unavailable", "recipient address rejected", "not yet been delivered",
	"has been delayed", "failure reasons", "delivery status notification", "user not found",
	"invalid mailbox", "not accepted", "error delivering", "trouble delivering", "error sending your",
	"rejected recipient", "failed recipient", "could not be delivered to", "invalid user address",
	// The same in the languages of the regional mailers: German, French,
	// Spanish, Portuguese, Italian, Russian, Japanese and Chinese.
	"konnte nicht zugestellt werden", "unzustellbar", "n'a pas pu être remis", "non remis",
	"no se pudo entregar", "no pudo ser entregado", "não pôde ser entregue", "non è stato possibile consegnare",
	"impossibile recapitare", "не может быть доставлено", "не доставлено", "送信できませんでした",
	"配信できませんでした", "届きませんでした", "无法投递", "未能送达", "退信", "投递失败",
}

// bounceSubjects are the subjects of reports.
var bounceSubjects = []string{
	"undeliver", "returned mail", "delivery status notification", "mail delivery failed",
	"failure notice", "delivery failure", "delivery notification", "could not send message",
	"mail system error", "returned to sender", "non-delivery", "nondeliverable", "delivery has failed",
	"error sending your mail", "unzustellbar", "non remis", "non recapitabile", "no entregado",
	"не доставлено", "退信", "投递失败", "エラー",
}

// failureWording returns the words of the text or the subject that say
// a delivery failed, or "".
func (msg *message) failureWording() string {
	if w := msg.failureText(); w != "" {
		return w
	}
	return msg.bounceSubjectWord()
}

// failureText returns the words of the report's text that say a
// delivery failed, or "".
func (msg *message) failureText() string {
	for _, w := range failureWords {
		if strings.Contains(msg.lower, w) {
			return w
		}
	}
	return ""
}

// bounceSubjectWord returns the words of a report's subject, or "".
func (msg *message) bounceSubjectWord() string {
	for _, w := range bounceSubjects {
		if strings.Contains(msg.subject, w) {
			return w
		}
	}
	return ""
}

// retryWords say that the mailer goes on trying: they make a report a
// warning even where it also says the message "could not be delivered"
// (yet). delayWords say a delivery is late; finalWords, that the mailer
// gave up, which no retry wording outweighs; notDeliveredWords, that a
// message was not delivered, which outweigh the words of a delay alone.
var (
	retryWords = []string{
		"will keep trying", "will continue trying", "will be retried", "delivery attempts will continue",
		"will continue to be made", "will retry", "no need to resend", "do not need to resend",
		"don't need to resend", "do not need to re-send", "no need to re-send", "do not resend",
		"not resend your original", "transient non-fatal errors", "warning message only", "this is a warning",
		"only a temporary failure", "kept in the queue",
	}
	delayWords = []string{
		"has been delayed", "have been delayed", "not yet been delivered", "notification about a delay",
		"delivery is delayed", "message delayed", "still undelivered", "is delayed",
	}
	finalWords = []string{
		"permanent error", "failed permanently", "permanent fatal error", "returning message to sender",
		"given up", "giving up", "no further delivery attempts", "has been removed from the mail queue",
		"permanent delivery failure", "permanent failure",
	}
	notDeliveredWords = []string{"could not be delivered", "couldn't be delivered", "was not delivered", "undeliverable"}
)

// delayWording returns the words that make the report a warning about a
// delivery still being tried, or "".
func (msg *message) delayWording() string {
	for _, w := range finalWords {
		if strings.Contains(msg.lower, w) {
			return ""
		}
	}
	for _, w := range retryWords {
		if strings.Contains(msg.lower, w) {
			return w
		}
	}
	for _, w := range notDeliveredWords {
		if strings.Contains(msg.lower, w) {
			return ""
		}
	}
	if strings.Contains(msg.subject, "delay") || strings.HasPrefix(msg.subject, "warning:") {
		return "subject: " + msg.subject
	}
	for _, w := range delayWords {
		if strings.Contains(msg.lower, w) {
			return w
		}
	}
	return ""
}

// reasonWords are the words of failures, lowercased, in the order they
// are tried: the words about the message or the sender come before the
// words about the mailbox, because a refusal for spam often also says
// "mailbox unavailable".
var reasonWords = []struct {
	reason string
	words  []string
}{
	{ReasonDMARC, []string{"dmarc", "unauthenticated email", "spf check", "spf fail", "dkim"}},
	{ReasonSpam, []string{
		"spam", "junk mail", "bulk mail", "content filter", "message content", "content rejected",
		"virus", "malware", "phishing", "unsolicited",
	}},
	{ReasonPolicy, []string{
		"blocked", "blacklist", "blocklist", "block list", "listed at", "reputation", "not authorized",
		"not authorised", "unauthorized", "relay access denied", "relaying denied", "relay not permitted",
		"access denied", "denied by policy", "policy", "prohibited", "not permitted", "permission",
		"sender address rejected", "client host rejected", "reverse dns",
	}},
	{ReasonMailboxFull, []string{
		"mailbox full", "mailbox is full", "mailbox has exceeded", "over quota", "overquota", "quota",
		"exceeded storage", "storage allocation", "insufficient disk", "not enough disk space",
		"out of disk space", "mailbox size", "full mailbox", "mailfolder is full", "inbox is full",
		"account is full", "user is over",
	}},
	{ReasonDomain, []string{
		"domain not found", "no such domain", "domain does not exist", "host unknown", "unknown host",
		"host not found", "name or service not known", "nxdomain", "unrouteable", "unroutable",
		"bad destination host", "unknown domain", "no mx ",
	}},
	{ReasonUserUnknown, []string{
		"user unknown", "unknown user", "no such user", "user not found", "unknown recipient",
		"recipient unknown", "recipient not found", "recipnotfound", "recipientnotfound", "not listed in",
		"addressee unknown", "unknown address", "address unknown", "unknown e-mail address",
		"unknown email address", "no mailbox", "mailbox unavailable", "mailbox not found",
		"mailbox does not exist", "no such mailbox", "does not exist", "doesn't exist",
		"invalid recipient", "invalid mailbox", "invalid address", "not our user", "illegal user",
		"not recognized", "wasn't found at", "address was not found", "address not found",
		"account disabled", "account is disabled", "has been disabled", "is disabled", "deactivated",
		"inactive", "no longer", "not a valid", "bad destination mailbox", "mailbox disabled",
		"no such recipient", "couldn't be found", "could not be found",
	}},
	{ReasonExpired, []string{
		"retry timeout exceeded", "retry time", "timeout exceeded", "expired", "queue period",
		"not delivered within", "maximum delivery attempts", "in the queue too long", "queued too long",
		"delivery time",
	}},
	{ReasonNetwork, []string{
		"timed out", "connection refused", "connection reset", "no route to host", "unreachable",
		"not reachable", "lookup failure", "temporary failure", "try again later", "not responding",
		"no answer", "can't connect", "cannot connect", "could not connect", "unable to connect",
	}},
}

// reasonIn returns the reason the words of lower give, and the words.
func reasonIn(lower string) (reason, phrase string) {
	if lower == "" {
		return "", ""
	}
	for _, r := range reasonWords {
		for _, w := range r.words {
			if strings.Contains(lower, w) {
				return r.reason, w
			}
		}
		if r.reason == ReasonDomain {
			// "host mx.example.org not found" (DragonFly Mail Agent,
			// sendmail's "Host unknown" in other words): the name does
			// not resolve.
			if m := hostNotFound.FindString(lower); m != "" {
				return ReasonDomain, m
			}
		}
	}
	return "", ""
}

var hostNotFound = regexp.MustCompile(`\bhost [a-z0-9.-]+ not found\b`)
