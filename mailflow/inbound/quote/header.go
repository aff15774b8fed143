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
	if len(t) > 120 {
		return false
	}
	core := strings.ToLower(strings.Trim(t, "-_=*~ \t"))
	core = strings.ReplaceAll(core, "’", "'")
	core = strings.Join(strings.Fields(core), " ")
	if strings.HasPrefix(t, "--") || strings.HasPrefix(t, "__") || strings.HasPrefix(t, "==") {
		return originalMessage[core]
	}
	// Without dashes only a line of its own that ends in a colon, as
	// Apple Mail writes "Begin forwarded message:".
	return strings.HasSuffix(core, ":") && originalMessage[strings.TrimSuffix(core, ":")]
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
	i := strings.IndexAny(t, ":：")
	if i <= 0 || i > 40 {
		return "", false
	}
	lab := strings.ToLower(strings.TrimSpace(strings.ReplaceAll(t[:i], "*", "")))
	return lab, lab != "" && utf8.RuneCountInString(lab) <= 20
}

// field kinds of a header block
const (
	fieldNone = iota
	fieldFrom
	fieldDate
	fieldTo
	fieldSubject
)

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
// field and at least two more of date, recipients and subject, each on
// its own line, with at most one blank line or one wrapped value line
// between them. start includes a rule drawn above the block.
func headerBlock(lines []string, i int) (start int, ok bool) {
	if fieldOf(lines[i]) == fieldNone {
		return 0, false
	}
	var seen [fieldSubject + 1]bool
	fields, gap := 0, 0
	for j := i; j < len(lines) && j < i+16; j++ {
		f := fieldOf(lines[j])
		if f == fieldNone {
			if gap++; gap > 1 {
				break
			}
			continue
		}
		gap = 0
		seen[f] = true
		fields++
	}
	others := 0
	for _, s := range seen[fieldDate:] {
		if s {
			others++
		}
	}
	if !seen[fieldFrom] || others < 2 || fields < 3 {
		return 0, false
	}
	start = i
	for j, blanks := i-1, 0; j >= 0; j-- {
		if isBlank(lines[j]) {
			if blanks++; blanks > 2 {
				break
			}
			continue
		}
		if isRule(lines[j]) {
			start = j
		}
		break
	}
	return start, true
}
