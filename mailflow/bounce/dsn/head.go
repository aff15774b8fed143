package dsn

import "strings"

// head is a line of a report's text that names a recipient: the address,
// the one it was expanded from, the rest of the line (which may already
// say what went wrong), and the shape that matched, for the rule an
// operator sees.
type head struct {
	addr, orig, rest, shape string
}

// headAddr reads a line that names a recipient (see the shapes at the top
// of text.go).
func headAddr(line string) (head, bool) {
	t := strings.TrimSpace(line)
	if len(t) < 5 || len(t) > 1000 {
		return head{}, false
	}
	// A list item: "* user@example.org" (Mail2000-style notices),
	// "> user@example.org" (MDaemon), "- user@example.org".
	if len(t) > 2 && strings.IndexByte("*->•", t[0]) >= 0 && t[1] == ' ' {
		if tok, after := splitToken(strings.TrimSpace(t[2:])); strings.TrimSpace(after) == "" {
			if a := cleanAddr(tok); a != "" {
				return head{addr: a, shape: "list item"}, true
			}
		}
	}
	// Sendmail's transcript: "554 <user@example.org>... Remote protocol
	// error"; an SMTP reply code (RFC 5321 §4.2) before the address.
	if len(t) > 5 && replyClass(t[:4]) != 0 && t[4] == '<' {
		if h, ok := bracketHead(t[4:]); ok {
			h.shape = "reply code, <address>"
			h.rest = strings.TrimSpace(t[:3] + " " + h.rest) // the code gives the class
			return h, true
		}
	}
	switch t[0] {
	case '<':
		return bracketHead(t)
	case '"':
		end := strings.IndexByte(t[1:], '"')
		if end < 0 {
			return head{}, false
		}
		a := cleanAddr(t[1 : 1+end])
		after := strings.TrimSpace(t[end+2:])
		if a == "" || after != "" && after[0] != ':' {
			return head{}, false
		}
		return head{addr: a, rest: strings.TrimSpace(after[min(1, len(after)):]), shape: `"address":`}, true
	}
	lt := strings.ToLower(t)
	if h, ok := exchangeHead(t, lt); ok {
		return h, true
	}
	if h, ok, decided := labelHead(t); decided {
		return h, ok
	}
	if h, ok, decided := sentenceHead(t, lt); decided {
		return h, ok
	}
	return bareHead(t)
}

// bracketHead reads "<user@example.org>: ..." (Postfix, qmail) and
// "<user@example.org> (expanded from <list@example.org>)".
func bracketHead(t string) (head, bool) {
	end := strings.IndexByte(t, '>')
	if end < 0 || strings.HasPrefix(strings.ToLower(t), "<mailto:") {
		return head{}, false
	}
	a := cleanAddr(t[1:end])
	after := strings.TrimSpace(t[end+1:])
	if a == "" || after != "" && strings.IndexByte(":(.,;[", after[0]) < 0 {
		return head{}, false
	}
	orig, after := expandedFrom(after)
	return head{addr: a, orig: orig, rest: strings.TrimSpace(strings.TrimLeft(after, ":.,; ")), shape: "<address>"}, true
}

// exchangeHead reads Exchange's lines: "Name<mailto:user@example.org>"
// (2007) and the X.400 form "c=US;a= ;p=ORG;o=Site;dda:SMTP=user@example.org;
// on <date>" (2003).
func exchangeHead(t, lt string) (head, bool) {
	if i := strings.Index(lt, "<mailto:"); i > 0 && strings.HasSuffix(t, ">") && strings.Count(t, "<") == 1 {
		if a := cleanAddr(t[i+len("<mailto:") : len(t)-1]); a != "" {
			return head{addr: a, shape: "exchange name<mailto:address>"}, true
		}
	}
	if i := strings.Index(lt, "smtp="); i >= 0 && strings.HasPrefix(lt, "c=") {
		tok := t[i+len("smtp="):]
		if j := strings.IndexAny(tok, "; \t"); j >= 0 {
			tok = tok[:j]
		}
		if a := cleanAddr(tok); a != "" {
			return head{addr: a, shape: "exchange x.400 smtp="}, true
		}
	}
	return head{}, false
}

// notLabels are the names before a colon that introduce an address that
// is not a failed recipient: the fields of a message's header, as copies
// of the returned message and "message details" lists show them.
var notLabels = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true, "sender": true, "return-path": true,
	"mail from": true, "envelope-from": true, "x-envelope-from": true, "errors-to": true, "resent-from": true,
	"resent-to": true, "message-id": true, "in-reply-to": true, "references": true, "subject": true,
	"date": true, "received": true, "x-sender": true, "x-original-sender": true, "delivered-to": true,
	"x-original-to": true, "envelope-to": true, "x-envelope-to": true, "sent by": true, "please contact": true,
	"contact": true, "postmaster": true, "reporting-mta": true, "remote-mta": true,
}

// labelHead reads "Some words: user@example.org", the shape of the free
// text of many mailers that predate RFC 3464: SMTP32 ("Delivery failed
// 20 attempts: a@b", "Invalid final delivery userid: a@b"), KDDI
// ("Could not be delivered to: <a@b>"), MailFoundry ("Unable to deliver
// message to: <a@b>"), LSMTP ("Error-for: a@b"), Verizon and Apache
// James ("RCPT TO: a@b"), ezweb ("Recipient: <a@b>"). The label is a few
// words; the field names of a message header are not labels of a
// recipient. decided is false when the line has no label at all.
func labelHead(t string) (h head, ok, decided bool) {
	colon := strings.IndexByte(t, ':')
	if colon <= 0 || colon > 80 {
		return head{}, false, false
	}
	label := strings.TrimSpace(t[:colon])
	if label == "" || strings.Count(label, " ") > 7 {
		return head{}, false, false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(isLetter(c) || isDigit(c) || c == ' ' || c == '-' || c == '_' || c == '\'' || c == '.' || c >= 0x80) {
			return head{}, false, false
		}
	}
	value := strings.TrimSpace(t[colon+1:])
	var tok, after string
	if strings.HasPrefix(value, "<") {
		end := strings.IndexByte(value, '>')
		if end < 0 {
			return head{}, false, false
		}
		tok, after = value[1:end], value[end+1:]
	} else {
		tok, after = splitToken(value)
	}
	a := cleanAddr(tok)
	if a == "" {
		return head{}, false, false
	}
	if ll := strings.ToLower(label); notLabels[ll] || strings.HasPrefix(ll, "x-") || strings.HasPrefix(ll, "list-") {
		// Header fields: X-BeenThere, List-Post and their kind.
		return head{}, false, true
	}
	return head{addr: a, rest: strings.TrimSpace(after), shape: "label: address"}, true, true
}

// sentences are how Office 365, Gmail and DragonFly Mail Agent name a
// recipient in a sentence at the start of a line; what follows the
// address says it failed.
var sentences = []struct{ prefix string }{
	{"your message to "}, {"your message wasn't delivered to "}, {"your message was not delivered to "},
	{"there was an error delivering your mail to "},
}

func sentenceHead(t, lt string) (h head, ok, decided bool) {
	for _, p := range sentences {
		if !strings.HasPrefix(lt, p.prefix) {
			continue
		}
		rest := t[len(p.prefix):]
		var tok, after string
		if strings.HasPrefix(rest, "<") {
			if end := strings.IndexByte(rest, '>'); end > 0 {
				tok, after = rest[1:end], rest[end+1:]
			}
		} else {
			tok, after = splitToken(rest)
		}
		la := strings.ToLower(after)
		a := cleanAddr(tok)
		if a != "" && (strings.HasPrefix(la, " couldn't") || strings.HasPrefix(la, " could not") ||
			strings.HasPrefix(la, " because") || strings.HasPrefix(la, " wasn't") || strings.HasPrefix(la, " was not") ||
			strings.TrimSpace(la) == ".") {
			return head{addr: a, shape: "sentence: " + strings.TrimSpace(p.prefix)}, true, true
		}
		return head{}, false, true
	}
	return head{}, false, false
}

// bareHead reads a line that starts with a bare address: alone, before a
// colon, Exchange 2003's "user@example.org on <date>", or followed by
// the words of the failure (Zoho: "user@example.org Invalid Address,
// ERROR_CODE :550"; "user@example.org [User unknown]").
func bareHead(t string) (head, bool) {
	tok, after := splitToken(t)
	a := cleanAddr(tok)
	if a == "" {
		return head{}, false
	}
	h := head{addr: a, shape: "address"}
	ta := strings.TrimSpace(after)
	switch {
	case after == "":
	case after[0] == ':':
		h.rest = strings.TrimSpace(after[1:])
	case strings.HasPrefix(after, " on "):
		// Exchange 2003; the date follows
	case strings.HasPrefix(strings.ToLower(after), "<mailto:"):
	case strings.HasPrefix(ta, "("):
		orig, rest := expandedFrom(ta)
		rest = strings.TrimSpace(strings.TrimLeft(rest, ":;, "))
		if cleanAddr(rest) != "" {
			rest = "" // Exchange 2010: "user@example.org (user@example.org)"
		}
		h.orig, h.rest = orig, rest
	case strings.HasPrefix(ta, ":"):
		h.rest = strings.TrimSpace(ta[1:])
	case strings.HasPrefix(ta, "["):
		h.rest = strings.Trim(ta, "[] ")
	default:
		if f := factsOf(ta); f.reason == "" && f.reply == 0 && f.code == "" {
			return head{}, false
		}
		h.rest, h.shape = ta, "address, then why"
	}
	return h, true
}
