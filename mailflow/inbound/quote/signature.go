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
	// A phone's line may have a short line or two under it ("Please
	// excuse my brevity").
	for i := max(1, n-3); i < n; i++ {
		if isMobileSignature(ls[i]) && !allBlank(ls[:i]) && shortLines(ls[i+1:]) {
			return ls[:i], ls[i:]
		}
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
	// From the end up, so that a signature above the footer stays one.
	for i := n - 1; i >= max(1, n-maxFooterLines); i-- {
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

func shortLines(ls []string) bool {
	for _, l := range ls {
		if utf8.RuneCountInString(strings.TrimSpace(l)) > 60 {
			return false
		}
	}
	return true
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

// isMobileSignature reports a short "Sent from my X" line, also with
// the apology phones add ("Sent from my iPhone, please excuse typos").
// "Sent from my desk, is much easier…" is prose, not a signature: the
// rest of the line must be a few words, and a comma may only be followed
// by such an apology or a carrier's phrase, not a clause.
func isMobileSignature(l string) bool {
	t := strings.TrimSpace(l)
	if t == "" || utf8.RuneCountInString(t) > 100 {
		return false
	}
	low := strings.ToLower(t)
	for _, p := range mobilePrefixes {
		if strings.HasPrefix(low, p) {
			return deviceWords(dropBracketed(low[len(p):]), 12)
		}
	}
	for _, s := range mobileSuffixes {
		if strings.HasSuffix(low, s) {
			return deviceWords(low, 5)
		}
	}
	return false
}

// deviceWords reports a rest of a phone's line: at most n words, no
// questions or semicolons, and after a comma no clause.
func deviceWords(rest string, n int) bool {
	if strings.ContainsAny(rest, ";?") || len(strings.Fields(rest)) > n {
		return false
	}
	head, tail, comma := strings.Cut(rest, ",")
	if !comma {
		return len(strings.Fields(head)) <= 8
	}
	words := strings.Fields(tail)
	return len(words) > 0 && !clauseStarts[strings.Trim(words[0], ".!")] && !strings.Contains(tail, ",")
}

// clauseStarts are words that open a clause after a comma, marking prose
// ("Sent from my desk, is much easier…") rather than a phone's line.
var clauseStarts = set("is", "was", "it", "it's", "which", "that", "and", "but", "so", "i", "i'm",
	"we", "you", "they", "he", "she", "this", "there", "because", "as", "where", "when")

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
