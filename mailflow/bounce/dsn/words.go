package dsn

import (
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
	"has been delayed", "failure reasons", "delivery status notification",
}

// bounceSubjects are the subjects of reports.
var bounceSubjects = []string{
	"undeliver", "returned mail", "delivery status notification", "mail delivery failed",
	"failure notice", "delivery failure", "delivery notification", "could not send message",
	"mail system error", "returned to sender", "non-delivery", "nondeliverable", "delivery has failed",
}

func (msg *message) failureWording() bool {
	for _, w := range failureWords {
		if strings.Contains(msg.lower, w) {
			return true
		}
	}
	return msg.bounceSubject()
}

func (msg *message) bounceSubject() bool {
	for _, w := range bounceSubjects {
		if strings.Contains(msg.subject, w) {
			return true
		}
	}
	return false
}

// delayWords say that delivery is still being tried; permanentWords, that
// it is not.
var (
	delayWords = []string{
		"has been delayed", "have been delayed", "not yet been delivered", "warning message only",
		"this is a warning", "notification about a delay", "delivery is delayed", "message delayed",
		"still undelivered", "will keep trying", "will continue trying", "will be retried",
		"delivery attempts will continue", "no need to resend", "do not need to resend",
		"don't need to resend", "transient non-fatal errors",
	}
	permanentWords = []string{
		"permanent error", "failed permanently", "permanent fatal error", "could not be delivered",
		"couldn't be delivered", "was not delivered", "returning message to sender", "given up",
		"giving up", "undeliverable",
	}
)

func (msg *message) delayWording() bool {
	delayed := strings.Contains(msg.subject, "delay") || strings.HasPrefix(msg.subject, "warning:")
	for _, w := range delayWords {
		delayed = delayed || strings.Contains(msg.lower, w)
	}
	if !delayed {
		return false
	}
	for _, w := range permanentWords {
		if strings.Contains(msg.lower, w) {
			return false
		}
	}
	return true
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
	}
	return "", ""
}
