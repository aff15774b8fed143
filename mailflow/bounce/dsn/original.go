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
		if prevBlank && pos > 0 && (strings.HasPrefix(line, "Received:") || strings.HasPrefix(line, "Return-Path: ") || headerRun(text[pos:])) {
			return text[:pos], text[pos:]
		}
		prevBlank = t == ""
		pos = next
	}
	return text, ""
}

// copyFields are the header fields (RFC 5322 §3.6, RFC 2045) that only a
// copy of a message's header shows: a report that repeats the returned
// message's To, Subject and Date for the reader does not repeat them.
var copyFields = map[string]bool{
	"message-id": true, "mime-version": true, "content-type": true, "received": true, "return-path": true,
}

// headerRun reports text that starts with a copy of a header: at least
// three header fields in a row, unindented, one of them a copyField.
func headerRun(text string) bool {
	fields, copied := 0, false
	for fields < 12 && text != "" {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if fields == 0 {
				return false
			}
			continue
		}
		name, _, ok := splitField(line)
		if !ok {
			break
		}
		fields++
		copied = copied || copyFields[name]
	}
	return fields >= 3 && copied
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
		"message headers follow", "original message:", "included is a copy of",
	} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}
