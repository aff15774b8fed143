package quote

import (
	"strings"
	"unicode"
)

// Reply is a reply split into what is shown and what is folded.
type Reply struct {
	Text      string // the new text, trimmed
	Signature string // the folded signature, if any
	Quoted    bool   // whether anything (history, signature or list footer) was folded
}

// fragment is a run of lines [start, end) that are all new text.
type fragment struct{ start, end int }

// Split splits a plain-text body.
func Split(text string) Reply {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	hist := classify(lines)
	news, firstHist, lastHistEnd := fragments(lines, hist)
	folded := firstHist >= 0

	// A top-posted reply keeps its top. New text after the quotes is kept
	// too (an inline reply, whether or not more quotes follow), unless it
	// is a signature, disclaimer or list footer glued under the quote.
	hasTop := len(news) > 0 && (firstHist < 0 || news[0].end <= firstHist)
	var kept, trailer []string
	lastKeptEnd := 0
	for k, f := range news {
		frag := trimBlankLines(lines[f.start:f.end])
		if hasTop && k > 0 && f.start >= lastHistEnd && isTrailer(frag) {
			folded = true
			if isSigDelimiter(frag[0]) && !hasFooterMarker(strings.Join(frag, "\n")) && trailer == nil {
				trailer = frag
			}
			continue
		}
		if len(kept) > 0 {
			kept = append(kept, "")
		}
		kept = append(kept, frag...)
		lastKeptEnd = f.end
	}
	kept, footer := splitFooter(kept)
	folded = folded || len(footer) > 0
	kept = trimBlankLines(kept)

	// A signature at the end is folded. One that stands above a ">" quote
	// stays with the text: the sender's client wrote it there, as part of
	// what was typed above the quote.
	body, sig := kept, trailer
	if !quoteBelow(lines, hist, lastKeptEnd) {
		var s []string
		if body, s = splitSignature(kept); s != nil {
			sig = s
		}
	}
	for i, l := range body {
		body[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	r := Reply{
		Text:      strings.Join(trimBlankLines(body), "\n"),
		Signature: strings.TrimRightFunc(strings.Join(sig, "\n"), unicode.IsSpace),
	}
	r.Quoted = folded || r.Signature != ""
	return r
}

// fragments cuts the lines into runs of new text (blank runs left out)
// and reports where the history starts and ends.
func fragments(lines []string, hist []bool) (news []fragment, firstHist, lastHistEnd int) {
	firstHist, lastHistEnd = -1, -1
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && hist[j] == hist[i] {
			j++
		}
		if hist[i] {
			if firstHist < 0 {
				firstHist = i
			}
			lastHistEnd = j
		} else if !allBlank(lines[i:j]) {
			news = append(news, fragment{i, j})
		}
		i = j
	}
	return news, firstHist, lastHistEnd
}

// isTrailer reports a fragment under the quote that the sender did not
// type as an answer: a signature, or a disclaimer or list footer that
// opens with a rule or a footer phrase.
func isTrailer(frag []string) bool {
	if len(frag) == 0 {
		return false
	}
	return isSigDelimiter(frag[0]) || isRule(frag[0]) && len(strings.TrimSpace(frag[0])) >= 3 || opensFooter(frag[0])
}

// quoteBelow reports whether the history right after line from is a ">"
// quote, with or without an attribution line above it.
func quoteBelow(lines []string, hist []bool, from int) bool {
	k := nextNonBlank(lines, from)
	if k >= len(lines) || !hist[k] {
		return false
	}
	if isQuoteLine(lines[k]) {
		return true
	}
	if n, _, ok := attribution(lines, k); ok {
		k = nextNonBlank(lines, k+n)
		return k < len(lines) && isQuoteLine(lines[k])
	}
	return false
}

func nextNonBlank(lines []string, from int) int {
	for from < len(lines) && isBlank(lines[from]) {
		from++
	}
	return from
}

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

func allBlank(ls []string) bool {
	for _, l := range ls {
		if !isBlank(l) {
			return false
		}
	}
	return true
}

func trimBlankLines(ls []string) []string {
	for len(ls) > 0 && isBlank(ls[0]) {
		ls = ls[1:]
	}
	for len(ls) > 0 && isBlank(ls[len(ls)-1]) {
		ls = ls[:len(ls)-1]
	}
	return ls
}
