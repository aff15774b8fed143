package quote

import (
	"strings"
	"unicode/utf8"
)

// maxSignatureLines bounds how far from the end a "-- " delimiter may be:
// a delimiter far above the end is a rule in the text, not a signature.
const maxSignatureLines = 15

// maxFooterLines bounds how far from the end a list footer may start.
const maxFooterLines = 20

// isSigDelimiter reports the RFC 3676 §4.3 "-- " line, or "--" since
// some clients eat the space, or the short "__" some write instead.
func isSigDelimiter(l string) bool {
	t := strings.TrimRight(l, " \t")
	return t == "--" || 2 <= len(t) && len(t) <= 4 && strings.Trim(t, "_") == ""
}

// splitSignature folds a signature off the end of the new text: after
// the RFC 3676 §4.3 "-- " delimiter, or a short "Sent from my iPhone"
// last line.
func splitSignature(ls []string) (body, sig []string) {
	n := len(ls)
	for i := max(1, n-maxSignatureLines); i < n; i++ {
		if isSigDelimiter(ls[i]) && !allBlank(ls[:i]) {
			return ls[:i], ls[i:]
		}
	}
	if n > 1 && isMobileSignature(ls[n-1]) && !allBlank(ls[:n-1]) {
		return ls[:n-1], ls[n-1:]
	}
	return ls, nil
}

// splitFooter cuts a mailing-list footer off the end of the new text: a
// paragraph near the end that opens with a rule or a footer phrase and
// carries a footer phrase (Mailman's "… mailing list" and listinfo link,
// Google Groups' "You received this message because …", groups.io's
// links, Parley's own).
func splitFooter(ls []string) (body, footer []string) {
	n := len(ls)
	for i := max(1, n-maxFooterLines); i < n; i++ {
		if !isBlank(ls[i-1]) && !isRule(ls[i]) && !isSigDelimiter(ls[i]) {
			continue // a footer opens a paragraph or under a rule
		}
		if !(isRule(ls[i]) || isSigDelimiter(ls[i]) || opensFooter(ls[i])) {
			continue
		}
		if hasFooterMarker(strings.Join(ls[i:], "\n")) && !allBlank(ls[:i]) {
			return ls[:i], ls[i:]
		}
	}
	return ls, nil
}

func hasFooterMarker(s string) bool { return containsAny(strings.ToLower(s), footerMarkers) }

func opensFooter(l string) bool { return containsAny(strings.ToLower(l), footerOpeners) }

func containsAny(s string, subs []string) bool {
	for _, m := range subs {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// isMobileSignature reports a short "Sent from my X" line. "Sent from
// my desk, is much easier…" is prose, not a signature: the rest of the
// line must be a few words without clause punctuation.
func isMobileSignature(l string) bool {
	t := strings.TrimSpace(l)
	if t == "" || utf8.RuneCountInString(t) > 80 {
		return false
	}
	low := strings.ToLower(t)
	for _, p := range mobilePrefixes {
		if strings.HasPrefix(low, p) {
			rest := dropBracketed(low[len(p):])
			return !strings.ContainsAny(rest, ",;!?") && len(strings.Fields(rest)) <= 8
		}
	}
	rest := dropBracketed(low)
	for _, s := range mobileSuffixes {
		if strings.HasSuffix(rest, s) {
			return !strings.ContainsAny(rest, ",;!?") && len(strings.Fields(rest)) <= 5
		}
	}
	return false
}

// dropBracketed removes "(…)" and "<…>", where clients put their links.
func dropBracketed(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '<':
			depth++
		case (r == ')' || r == '>') && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}
