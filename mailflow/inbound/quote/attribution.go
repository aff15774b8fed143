package quote

import "strings"

// maxAttrLine bounds the lines looked at as an attribution, so that a
// hostile long line costs nothing.
const maxAttrLine = 300

// attribution reports whether an attribution line ("On …, … wrote:")
// starts at line i, and over how many lines (Gmail wraps it at 80
// columns, so up to three). strong means it carries a date or an
// address, enough to trust even when no ">" quote follows.
func attribution(lines []string, i int) (n int, strong, ok bool) {
	first := strings.TrimSpace(lines[i])
	if len(first) > maxAttrLine {
		return 0, false, false
	}
	joined := first
	for n = 1; n <= 3 && i+n-1 < len(lines); n++ {
		if n > 1 {
			next := strings.TrimSpace(lines[i+n-1])
			// Gmail may wrap right after the address, leaving its closing
			// ">:" or "> wrote:" at the start of a line, where it looks
			// like a quote.
			if next == "" || len(next) > maxAttrLine || (isQuoteLine(next) && !closesAddress(joined, next)) {
				break
			}
			joined += " " + next
		}
		if !endsLikeAttribution(joined) {
			continue
		}
		ok, strong = isAttribution(joined)
		if !ok {
			continue
		}
		if n > 1 {
			// A wrapped attribution starts with its date or lead word;
			// when a later line is a whole attribution of its own, the
			// first line is the sender's text.
			if !hasDigit(first) && !hasLead(first) {
				return 0, false, false
			}
			for j := i + 1; j < i+n; j++ {
				l := strings.TrimSpace(lines[j])
				if a, _ := isAttribution(strings.Join(trimAll(lines[j:i+n]), " ")); a && hasLead(l) {
					return 0, false, false
				}
			}
		}
		return n, strong, true
	}
	return 0, false, false
}

// endsLikeAttribution is a cheap first test of a (joined) line: an
// attribution ends with a colon, Zoho's dashes, or a verb.
func endsLikeAttribution(s string) bool {
	s = strings.TrimRight(s, " \t\u00a0")
	// Direction marks may follow the colon; such lines get the full test.
	if strings.HasSuffix(s, ":") || strings.HasSuffix(s, "：") || strings.HasSuffix(s, "-") || strings.IndexByte(s, 0xe2) >= 0 {
		return true
	}
	if len(s) > 24 {
		s = s[len(s)-24:] // the longest verb is shorter
	}
	return hasSuffixIn(strings.ToLower(s), endVerbs)
}

// closesAddress reports a line such as ">:" or "> wrote:" that ends an
// attribution whose address bracket the previous lines left open.
func closesAddress(joined, next string) bool {
	return len(next) <= 30 && strings.HasSuffix(strings.ReplaceAll(next, "：", ":"), ":") &&
		strings.LastIndexByte(joined, '<') > strings.LastIndexByte(joined, '>')
}

func trimAll(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSpace(l)
	}
	return out
}

func hasLead(s string) bool {
	if len(s) > 16 {
		s = s[:16] // the longest lead is shorter
	}
	low := strings.ToLower(s)
	for _, l := range leads {
		if strings.HasPrefix(low, l) {
			return true
		}
	}
	return false
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			return true
		}
	}
	return false
}

// hasTime reports a clock time such as "4:19" or "16:37".
func hasTime(s string) bool {
	for i := 1; i+2 < len(s); i++ {
		if s[i] == ':' && isDigit(s[i-1]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isAttribution tests a (joined) line. strong means it carries a date
// or an address, enough to trust even when no ">" quote follows.
func isAttribution(s string) (ok, strong bool) {
	if len(s) > 3*maxAttrLine {
		return false, false
	}
	if strings.IndexByte(s, 0xe2) >= 0 { // the first byte of the marks' UTF-8
		s = dropBidi(s)
	}
	s = strings.TrimSpace(strings.ReplaceAll(s, "：", ":"))
	if len(s) == 0 {
		return false, false
	}
	// Zoho frames it in dashes, without a colon: "---- On … wrote ----".
	framed := strings.HasPrefix(s, "---") && strings.HasSuffix(s, "---")
	if framed {
		s = strings.TrimSpace(strings.Trim(s, "-"))
	}
	colon := strings.HasSuffix(s, ":")
	low := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(s, ":")))
	addr := strings.Contains(low, "@")
	strong = hasTime(low) || hasDigit(low) && (addr || hasLead(low))
	if !colon && !framed {
		// Some clients drop the colon ("On Wed, 14 Nov 2018 08:14:43
		// -0200 Ann <ann@example.org> wrote"). Without it only a line
		// that opens with a lead word, carries a time or an address and
		// ends with the verb is taken, so prose that ends in "wrote" is
		// not.
		if hasLead(low) && hasDigit(low) && (hasTime(low) || addr) && hasSuffixIn(low, endVerbs) {
			return true, true
		}
		return false, false
	}
	if hasSuffixIn(low, endVerbs) {
		// "Ann <ann@example.org> wrote:" is unmistakable without a date.
		return true, strong || hasBracketedAddress(low)
	}
	for _, q := range quotingLeads {
		if strings.HasPrefix(low, q) && addr {
			return true, strong
		}
	}
	for _, v := range midVerbs {
		if strings.Contains(low, v) && (hasDigit(low) || addr) {
			return true, strong
		}
	}
	// Gmail's form in languages without a verb, and Mail.ru's "<date>
	// from <address>": "<date> <name> <addr>:".
	if strings.HasSuffix(low, ">") && addr && hasDigit(low) {
		return true, true
	}
	return false, false
}

func hasSuffixIn(s string, suffixes []string) bool {
	for _, v := range suffixes {
		if strings.HasSuffix(s, v) {
			return true
		}
	}
	return false
}

// dropBidi removes the invisible direction marks (Unicode UAX #9) that
// Gmail puts around names and addresses in Hebrew and Arabic, so that
// the line still ends with its ">:".
func dropBidi(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u200e', r == '\u200f', '\u202a' <= r && r <= '\u202e', '\u2066' <= r && r <= '\u2069':
			return -1
		}
		return r
	}, s)
}
