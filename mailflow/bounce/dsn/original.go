package dsn

import (
	"strings"
)

// splitOriginal cuts a report's text where the copy of the returned
// message begins, so that the original's header fields and body are not
// read as part of the report.
func splitOriginal(text string) (report, original string) {
	pos := 0
	prevBlank := false
	for pos < len(text) {
		end := strings.IndexByte(text[pos:], '\n')
		next := len(text)
		if end >= 0 {
			next = pos + end + 1
		} else {
			end = len(text) - pos
		}
		line := text[pos : pos+end]
		t := strings.ToLower(strings.TrimSpace(line))
		if isOriginalMarker(t) {
			return text[:pos], text[next:]
		}
		// A copy introduced by no marker at all starts with its trace
		// fields, after a blank line.
		if prevBlank && pos > 0 && (strings.HasPrefix(line, "Received:") || strings.HasPrefix(line, "Return-Path: ")) {
			return text[:pos], text[pos:]
		}
		prevBlank = t == ""
		pos = next
	}
	return text, ""
}

func isOriginalMarker(t string) bool {
	if t == "" {
		return false
	}
	switch t[0] {
	case '-', '*', '=', '_':
		for _, w := range []string{
			"original message", "copy of the message", "message follows", "returned message",
			"header of the original", "message header", "message body", "unsent message",
			"undelivered message", "this is a copy", "original mail", "returned mail",
		} {
			if strings.Contains(t, w) {
				return true
			}
		}
		return false
	}
	for _, p := range []string{
		"original message follows", "below is a copy of the original message", "original message headers",
		"original message header", "a copy of the original message", "returned message follows",
		"message headers follow", "original message:",
	} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
