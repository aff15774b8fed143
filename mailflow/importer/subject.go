package importer

import (
	"strings"
	"unicode/utf8"
)

// NormalizeSubject returns the key replies are matched on when their
// headers do not say what they answer: the subject without its reply
// and forward prefixes ("Re:", "Fwd:", "Fw:", "AW:", "SV:" and a few
// more, also counted as "Re[2]:" or "Re^2:") and list tags ("[garden]")
// however often they repeat, with white space collapsed, lowercased.
// Mailman's archives often lack In-Reply-To, so this is how their
// threads are found again.
func NormalizeSubject(s string) string { return strings.ToLower(subjectCore(s)) }

// subjectCore is NormalizeSubject before lowercasing. Only ASCII white
// space is collapsed, as the store's coarse filter does (ThreadsEndingWith).
func subjectCore(s string) string {
	s = collapseSpace(s)
	for {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, "[") {
			if i := strings.IndexByte(s, ']'); i > 0 {
				s = s[i+1:]
				continue
			}
		}
		if n := replyPrefix(s); n > 0 {
			s = s[n:]
			continue
		}
		return strings.TrimRight(s, " ")
	}
}

// replyPrefixes are the reply and forward markers of common mail clients:
// English, German (AW, WG), Nordic (SV, VS), Dutch (Antw), French (TR, Réf).
var replyPrefixes = []string{"re", "fwd", "fw", "aw", "sv", "wg", "vs", "antw", "tr", "réf", "ref"}

// replyPrefix returns the length of the reply or forward marker s starts
// with ("Re:", "RE :", "Re[3]:", "Re^2:", "Fwd:"), or 0.
func replyPrefix(s string) int {
	for _, p := range replyPrefixes {
		if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
			continue
		}
		i := len(p)
		// An optional counter: [n], (n) or ^n.
		if i < len(s) && (s[i] == '[' || s[i] == '(') {
			close := byte(']')
			if s[i] == '(' {
				close = ')'
			}
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > i+1 && j < len(s) && s[j] == close {
				i = j + 1
			}
		} else if i < len(s) && s[i] == '^' {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j > i+1 {
				i = j
			}
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i < len(s) && s[i] == ':' {
			return i + 1
		}
		if strings.HasPrefix(s[i:], "：") { // the fullwidth colon of CJK clients
			return i + len("：")
		}
	}
	return 0
}

// collapseSpace makes every run of ASCII white space one space.
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n', '\f', '\v':
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteByte(c)
		}
	}
	return b.String()
}

// maxSubject is the longest subject kept, in characters (as posts).
const maxSubject = 300

// cleanSubject keeps a subject to one line of at most maxSubject
// characters: it ends up in mail headers and page titles.
func cleanSubject(s string) string {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			if r == '\t' || r == '\r' || r == '\n' {
				return ' '
			}
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))), " ")
	if utf8.RuneCountInString(s) > maxSubject {
		s = string([]rune(s)[:maxSubject-1]) + "…"
	}
	return s
}
