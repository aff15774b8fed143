package senderauth

import (
	"strings"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
)

// Reported is what a trusted MTA's Authentication-Results field says.
type Reported struct {
	AuthServID string
	SPF        string // the spf= result
	SPFDomain  string // the domain of smtp.mailfrom (or smtp.helo)
	DKIM       []DKIMSignature
	DMARC      string // the dmarc= result
	DMARCFrom  string // its header.from
}

// TrustedResults reads the topmost Authentication-Results field stamped
// by authServID, and ignores every other: anyone can write the header, and
// only the MTA in front of Parley is believed. RFC 8601 section 5 has
// that MTA remove fields claiming its own authserv-id from incoming mail;
// reading only the topmost (the last one added) also keeps a forged one
// further down from counting.
func TrustedResults(h textproto.Header, authServID string) (Reported, bool) {
	if authServID == "" {
		return Reported{}, false
	}
	fields := h.FieldsByKey("Authentication-Results")
	for fields.Next() {
		// Unfold (RFC 5322 section 2.2.3) before parsing.
		v := strings.NewReplacer("\r\n", "", "\n", "").Replace(fields.Value())
		if rep, ok := ParseAuthResults(v, authServID); ok {
			return rep, true
		}
	}
	return Reported{}, false
}

// ParseAuthResults reads one Authentication-Results field value (RFC 8601
// section 2.2); ok is false when it was not stamped by authServID or is
// unreadable.
func ParseAuthResults(value, authServID string) (Reported, bool) {
	id, results, err := authres.Parse(stripComments(value))
	if err != nil || authServID == "" || !strings.EqualFold(strings.TrimSpace(id), strings.TrimSpace(authServID)) {
		return Reported{}, false
	}
	rep := Reported{AuthServID: strings.ToLower(strings.TrimSpace(id))}
	for _, res := range results {
		switch r := res.(type) {
		case *authres.SPFResult:
			if rep.SPF != "" {
				continue // the first spf= counts
			}
			rep.SPF = strings.ToLower(string(r.Value))
			rep.SPFDomain = domainOf(r.From)
			if rep.SPFDomain == "" {
				rep.SPFDomain = domainOf(r.Helo)
			}
		case *authres.DKIMResult:
			d := domainOf(r.Domain)
			if d == "" {
				d = domainOf(r.Identifier)
			}
			if d != "" {
				rep.DKIM = append(rep.DKIM, DKIMSignature{Domain: d, Result: strings.ToLower(string(r.Value))})
			}
		case *authres.DMARCResult:
			if rep.DMARC == "" {
				rep.DMARC = strings.ToLower(string(r.Value))
				rep.DMARCFrom = domainOf(r.From)
			}
		}
	}
	return rep, true
}

// domainOf takes the domain of "user@domain", "@domain" or "domain".
func domainOf(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>\"")
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		s = s[at+1:]
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// stripComments removes RFC 5322 comments (nested parentheses, outside
// quoted strings), which RFC 8601 allows anywhere in the field and the
// parser does not skip ("dkim=pass (2048-bit key; unprotected) header.d=…").
func stripComments(s string) string {
	var b strings.Builder
	depth, quoted, escaped := 0, false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
			if depth == 0 {
				b.WriteRune(r)
			}
			continue
		case r == '\\' && (quoted || depth > 0):
			escaped = true
			if depth == 0 {
				b.WriteRune(r)
			}
			continue
		case quoted:
			if r == '"' {
				quoted = false
			}
		case r == '"' && depth == 0:
			quoted = true
		case r == '(':
			depth++
			continue
		case r == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}
