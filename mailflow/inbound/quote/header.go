package quote

import (
	"strings"
	"unicode/utf8"
)

// isOriginalMessage reports a separator such as "-----Original
// Message-----", "-------- Oprindelig besked --------" or Apple Mail's
// "Begin forwarded message:".
func isOriginalMessage(l string) bool {
	t := strings.TrimSpace(l)
	dashed := strings.HasPrefix(t, "--") || strings.HasPrefix(t, "__") || strings.HasPrefix(t, "==")
	if len(t) > 120 || !dashed && !strings.HasSuffix(t, ":") {
		return false
	}
	core := strings.ToLower(strings.Trim(t, "-_=*~ \t"))
	core = strings.ReplaceAll(core, "’", "'")
	core = strings.Join(strings.Fields(core), " ")
	if dashed {
		// Lotus Notes: "----- Forwarded by Ann Lee/ACME on 04/03/2024 -----".
		return originalMessage[core] || strings.HasPrefix(core, "forwarded by ") && hasDigit(core)
	}
	// Without dashes only a line of its own that ends in a colon, as
	// Apple Mail writes "Begin forwarded message:".
	return strings.HasSuffix(core, ":") && originalMessage[strings.TrimSpace(strings.TrimSuffix(core, ":"))]
}

// isRule reports a short or long line drawn of "_-=*~" (at least two),
// as list footers and some webmails put above what they add.
func isRule(l string) bool {
	t := strings.TrimSpace(l)
	return len(t) >= 2 && strings.Trim(t, "_-=*~") == ""
}

// label returns the lowercased field label of a header-like line:
// "From:", "*From:*" (Gmail's plain text of bold), "De :" (French puts a
// space before the colon), "Envoyé le :".
func label(l string) (string, bool) {
	t := strings.TrimSpace(l)
	if len(t) > 64 {
		t = t[:64] // a label is short; a long line costs no more
	}
	i := strings.IndexAny(t, ":：")
	if i <= 0 || i > 40 {
		return "", false
	}
	lab := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(t[:i], "*", "")))
	return lab, lab != "" && utf8.RuneCountInString(lab) <= 20
}

// hasBracketedAddress reports an address in "<…>" or "[mailto:…]".
func hasBracketedAddress(l string) bool {
	a, b := strings.IndexAny(l, "<["), strings.LastIndexAny(l, ">]")
	return a >= 0 && b > a && strings.Contains(l[a:b], "@")
}

// field kinds of a header block
const (
	fieldNone = iota
	fieldFrom
	fieldDate
	fieldTo
	fieldSubject
)

// fieldsOf returns the field kind of every line, read once.
func fieldsOf(lines []string) []int {
	fs := make([]int, len(lines))
	for i, l := range lines {
		fs[i] = fieldOf(l)
	}
	return fs
}

func fieldOf(l string) int {
	lab, ok := label(l)
	switch {
	case !ok:
		return fieldNone
	case fromLabels[lab]:
		return fieldFrom
	case dateLabels[lab]:
		return fieldDate
	case toLabels[lab]:
		return fieldTo
	case subjectLabels[lab]:
		return fieldSubject
	}
	return fieldNone
}

// headerBlock reports the header block a client writes above the message
// it replies to, starting at line i: Outlook's "From: … Sent: … To: …
// Subject: …" in its languages, GMX's "Gesendet: … Von: … An: …",
// French webmails' "Message du : … De : … A : …". It needs a sender
// field and at least two more of date, recipients and subject (one is
// enough when the sender has a bracketed address; the subject is needed
// when the sender has no address at all), each on its own line,
// with at most one blank line or one wrapped value line between them.
// start includes a rule drawn above the block.
func headerBlock(lines []string, fields []int, i int) (start int, ok bool) {
	if fields[i] == fieldNone {
		return 0, false
	}
	var seen [fieldSubject + 1]bool
	gap, from := 0, -1
	for j := i; j < len(lines) && j < i+16; j++ {
		f := fields[j]
		if f == fieldNone {
			if gap++; gap > 1 {
				break
			}
			continue
		}
		gap = 0
		seen[f] = true
		if f == fieldFrom && from < 0 {
			from = j
		}
	}
	others := 0
	for _, s := range seen[fieldDate:] {
		if s {
			others++
		}
	}
	// A sender with its address in brackets is header enough with one
	// more field ("From: Ann <ann@example.org>" then "Date: …"). Without
	// an address the block needs its subject: "From: Berlin / To: Paris /
	// Date: Monday" is a journey, not a header.
	if from < 0 || others == 0 {
		return 0, false
	}
	switch addr := strings.Contains(lines[from], "@"); {
	case others < 2 && !hasBracketedAddress(lines[from]), !addr && !seen[fieldSubject]:
		return 0, false
	}
	return ruleAbove(lines, i), true
}

// ruleAbove returns the line of a rule drawn up to two blank lines above
// line i, or i.
func ruleAbove(lines []string, i int) int {
	for j, blanks := i-1, 0; j >= 0; j-- {
		if isBlank(lines[j]) {
			if blanks++; blanks > 2 {
				break
			}
			continue
		}
		if isRule(lines[j]) {
			return j
		}
		break
	}
	return i
}

// isHistoryMarker reports a line such as Discourse's "*Previous
// Replies*" or a help desk's "## Reply above this line ##": what
// follows is history.
func isHistoryMarker(l string) bool {
	t := strings.TrimSpace(l)
	if len(t) > 80 {
		return false
	}
	core := strings.ToLower(strings.Trim(t, "-_=*#~[]() \t"))
	return historyMarkers[core] || containsAny(core, historyPhrases)
}
