package quote

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// classify marks the lines that are history: ">" quotes (and quoted
// lines that lost their ">" when re-wrapped), attribution lines before
// them, and everything after a separator that starts a non-">" quote
// (Outlook's header block, "Original Message", an attribution followed
// by unquoted history, a phone's "Sent from my …" line followed by more).
func classify(lines []string) []bool {
	hist := make([]bool, len(lines))
	rest := func(from int) []bool {
		for j := from; j < len(lines); j++ {
			hist[j] = true
		}
		return hist
	}
	fields := fieldsOf(lines)
	newAbove := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if isQuoteLine(l) || lostQuoteMark(lines, i) {
			hist[i] = true
			continue
		}
		if isBlank(l) {
			continue
		}
		if isOriginalMessage(l) {
			return rest(i)
		}
		if isHistoryMarker(l) {
			return rest(ruleAbove(lines, i))
		}
		if start, ok := headerBlock(lines, fields, i); ok {
			return rest(start)
		}
		if n, strong, ok := attribution(lines, i); ok {
			k := nextNonBlank(lines, i+n)
			switch {
			case k < len(lines) && isQuoteLine(lines[k]):
				for j := i; j < i+n; j++ {
					hist[j] = true
				}
				i += n - 1
				continue
			case k == len(lines) || strong:
				// Nothing follows, or the history follows unquoted (Gmail
				// in some languages, Outlook on phones).
				return rest(i)
			}
		}
		// A phone writes its line at the end of what was typed; unquoted
		// text after it is the message replied to, its header lost.
		if newAbove && isMobileSignature(l) {
			if k := nextNonBlank(lines, i+1); k < len(lines) && !startsQuote(lines, k) && !(k == i+1 && shortTail(lines[k:])) {
				return rest(k)
			}
		}
		newAbove = true
	}
	return hist
}

// startsQuote reports a ">" quote at line k, or an attribution line
// introducing one.
func startsQuote(lines []string, k int) bool {
	if isQuoteLine(lines[k]) {
		return true
	}
	n, _, ok := attribution(lines, k)
	if !ok {
		return false
	}
	k = nextNonBlank(lines, k+n)
	return k < len(lines) && isQuoteLine(lines[k])
}

// isQuoteLine reports a line quoted with ">" (RFC 3676 §4.5).
func isQuoteLine(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

// wrapWidth is about where clients wrap quoted text (RFC 5322 §2.1.1
// recommends 78 characters; the "> " prefix is added after wrapping).
const wrapWidth = 70

// lostQuoteMark reports a line between two ">" lines that is the tail of
// the one above, cut off by a client that re-wrapped the quote after
// adding the marks: the line above was full, and this one goes on
// mid-sentence (it does not start with a capital).
func lostQuoteMark(lines []string, i int) bool {
	if i == 0 || i+1 >= len(lines) || !isQuoteLine(lines[i-1]) || !isQuoteLine(lines[i+1]) {
		return false
	}
	t := strings.TrimSpace(lines[i])
	if t == "" {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(t); unicode.IsUpper(r) {
		return false
	}
	word, _, _ := strings.Cut(t, " ")
	above := utf8.RuneCountInString(strings.TrimSpace(lines[i-1]))
	return above+1+utf8.RuneCountInString(word) > wrapWidth
}

// shortTail reports one or two short lines to the end, such as the
// "Please excuse my brevity" right under a phone's line: part of its
// signature.
func shortTail(ls []string) bool {
	if len(ls) > 4 { // bounded, so that many phone lines cost no more than one
		return false
	}
	ls = trimBlankLines(ls)
	return len(ls) <= 2 && shortLines(ls) && !allBlank(ls) && !isQuoteLine(ls[0])
}
