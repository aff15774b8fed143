package dsn

import "strings"

// This file holds the last resorts of a report that names its recipients
// in none of the shapes text.go knows, and the reading of messages that
// are reports without a mailer's sender.

// failureLines reads the addresses named on the lines of the report's
// text that state a failure: an SMTP reply code (RFC 5321 §4.2), an
// enhanced status code (RFC 3463), or the words of a failure. InterScan
// ("Unable to deliver message to <a@b> (and other recipients...)"),
// mail.ru ("Local mailbox a@b is unavailable"), SMTP32 ("undeliverable to
// a@b") and plain text ("552 Quota violation for a@b") say it this way.
func (msg *message) failureLines() []*draft {
	var ds []*draft
	seen := map[string]bool{}
	for _, line := range msg.lines {
		if strings.IndexByte(line, '@') < 0 || !statesFailure(line) {
			continue
		}
		for _, a := range lineAddrs(line) {
			if !seen[a] && !msg.excluded(a) && len(ds) < maxRecipients {
				seen[a] = true
				ds = append(ds, &draft{addr: a, lines: []string{strings.TrimSpace(line)}, rule: "text: an address on a line that states the failure"})
			}
		}
	}
	return ds
}

// statesFailure reports a line that says a delivery failed.
func statesFailure(line string) bool {
	lower := strings.ToLower(line)
	if r, _ := reasonIn(lower); r != "" {
		return true
	}
	if failureCode(line) != "" || replyClass(line) != 0 {
		return true
	}
	for _, w := range failureWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// lineAddrs returns the addresses in a line, in order.
func lineAddrs(line string) []string {
	var out []string
	for i := 0; i < len(line); {
		j := strings.IndexByte(line[i:], '@')
		if j < 0 {
			break
		}
		j += i
		start, end := j, j+1
		for start > 0 && isAddrByte(line[start-1]) {
			start--
		}
		for end < len(line) && isAddrByte(line[end]) {
			end++
		}
		if a := cleanAddr(line[start:end]); a != "" {
			out = append(out, a)
		}
		i = end
	}
	return out
}

// screenNames reads AOL's reports, which list the recipients that failed
// by their screen names, the local part of their AOL address, one to a
// line after the sentence that introduces the list.
func (msg *message) screenNames() []*draft {
	_, dom, _ := strings.Cut(msg.from, "@")
	if dom != "aol.com" && !strings.HasSuffix(dom, ".aol.com") {
		return nil
	}
	var ds []*draft
	listing := false
	for _, line := range msg.lines {
		t := strings.TrimSpace(line)
		lt := strings.ToLower(t)
		switch {
		case !listing:
			listing = strings.Contains(lt, "following recipient") || strings.Contains(lt, "following address") ||
				strings.HasSuffix(lt, "could not be delivered to:")
		case t == "":
			if len(ds) > 0 {
				return ds
			}
		case strings.ContainsAny(t, " \t"):
			return ds
		default:
			a := cleanAddr(t)
			if a == "" && screenName(t) {
				a = strings.ToLower(t) + "@aol.com"
			}
			if a != "" && !msg.excluded(a) && len(ds) < maxRecipients {
				ds = append(ds, &draft{addr: a, rule: "text: aol screen name listed after \"" + lt + "\""})
			}
		}
	}
	return ds
}

// screenName reports an AOL screen name: letters, digits, dots, dashes
// and underscores, starting with a letter.
func screenName(s string) bool {
	if len(s) < 3 || len(s) > 32 || !isLetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !isDigit(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// returnedRecipients are the recipients of the returned message, for a
// report that names none itself (Verizon's MMS gateway): the message
// Parley sent went to them. Only a few: a copy addressed to a crowd says
// nothing about which one failed.
func (msg *message) returnedRecipients() []*draft {
	h, ok := msg.returnedHeader()
	if !ok {
		return nil
	}
	if _, list := h.first("list-id"); list {
		// A list's copy is addressed to the list, not to the member
		// (RFC 2919): its To names no one who failed.
		return nil
	}
	if _, list := h.first("list-post"); list {
		return nil
	}
	var addrs []string
	for _, v := range h.all("to") {
		addrs = append(addrs, addressList(v)...)
	}
	if len(addrs) == 0 || len(addrs) > 3 {
		return nil
	}
	var ds []*draft
	for _, a := range addrs {
		if a != msg.from && a != msg.returnPath && !contains(addrsOf(ds), a) {
			ds = append(ds, &draft{addr: a, rule: "the returned message's To (the report names no recipient)"})
		}
	}
	return ds
}

func addrsOf(ds []*draft) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.addr
	}
	return out
}

// notice reports a failure notice from a sender that is no mailer (a
// gateway's "no-reply" or its virus scanner): not a reply or a forward,
// its text says a delivery failed, and its subject says so too or it
// returns a message as an attachment (RFC 2046 §5.2.1). It returns the
// words that decided.
func (msg *message) notice() string {
	if len(msg.m.InReplyTo) > 0 || msg.replyOrForwardSubject() {
		return ""
	}
	w := msg.failureText()
	if w == "" {
		return ""
	}
	if s := msg.bounceSubjectWord(); s != "" {
		return "subject \"" + s + "\" and text \"" + w + "\""
	}
	for _, a := range msg.m.Attachments {
		switch a.ContentType {
		case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers":
			return "a returned message attached and text \"" + w + "\""
		}
	}
	return ""
}

// replyOrForwardSubject reports a subject a person's reply or forward
// has.
func (msg *message) replyOrForwardSubject() bool {
	if strings.HasPrefix(msg.subject, "re:") || strings.HasPrefix(msg.subject, "aw:") {
		return true
	}
	for _, p := range forwardSubjects {
		if strings.HasPrefix(msg.subject, p) {
			return true
		}
	}
	return false
}

// maxNesting bounds the reading of reports attached to reports.
const maxNesting = 2

// nestedReport reads a report attached, as a returned message, to a
// report that names no recipient itself: a relay that bounced a bounce
// (the attached report is about the recipient Parley mailed).
func (msg *message) nestedReport(depth int) (Report, bool) {
	if depth >= maxNesting {
		return Report{}, false
	}
	for _, a := range msg.m.Attachments {
		if a.ContentType != "message/rfc822" && a.ContentType != "message/global" || len(a.Data) == 0 {
			continue
		}
		r := classifyAt(a.Data, depth+1)
		if (r.Kind == KindBounce || r.Kind == KindDelayed) && len(r.Recipients) > 0 {
			r.Rule = "a report nested in the returned message: " + r.Rule
			return r, true
		}
	}
	return Report{}, false
}
