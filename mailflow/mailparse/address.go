package mailparse

import (
	"strings"
)

type address struct{ name, address string }

// parseAddressList reads an address list (RFC 5322 §3.4) as mailers
// really write it: a comma splits addresses only once the text before it
// holds an address, so an unquoted comma in a display name ("Norton I.,
// Emperor <n@example.com>") stays in the name; with nested brackets
// ("Name <Name <a@example.com>>") the innermost address wins.
func parseAddressList(raw string) []address {
	s := decode8(raw)
	var segs []string
	inQuote, comment, angle := false, 0, 0
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (inQuote || comment > 0):
			i++
		case c == '"' && comment == 0:
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			comment++
		case c == ')' && comment > 0:
			comment--
		case comment > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case (c == ',' || c == ';') && angle == 0:
			segs = append(segs, s[start:i])
			start = i + 1
		}
	}
	segs = append(segs, s[start:])

	var out []address
	pending := ""
	for _, seg := range segs {
		if pending != "" {
			seg = pending + "," + seg
		}
		if !strings.Contains(seg, "@") {
			if strings.TrimSpace(seg) != "" {
				pending = seg
			}
			continue
		}
		pending = ""
		if a, ok := parseAddress(seg); ok {
			out = append(out, a)
		}
	}
	return out
}

func parseAddress(seg string) (address, bool) {
	seg = strings.TrimSpace(seg)
	// A group ("Friends: a@example.com") loses its name (RFC 5322 §3.4).
	if i := topLevelIndex(seg, ':'); i >= 0 && i < topLevelIndex(seg, '@') && (topLevelIndex(seg, '<') < 0 || i < topLevelIndex(seg, '<')) {
		seg = strings.TrimSpace(seg[i+1:])
	}
	var a address
	if lt := topLevelIndex(seg, '<'); lt >= 0 {
		inner := seg[lt+1:]
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		if k := strings.LastIndexByte(inner, '<'); k >= 0 {
			inner = inner[k+1:]
		}
		a.address = cleanAddr(inner)
		a.name = displayName(seg[:lt])
	} else {
		// addr-spec, perhaps with the old "a@example.com (Name)" comment.
		var rest []string
		for _, w := range strings.Fields(stripCommentsKeep(seg, &rest)) {
			if a.address == "" && strings.Contains(w, "@") {
				a.address = cleanAddr(w)
			}
		}
		a.name = displayName(strings.Join(rest, " "))
	}
	if a.address == "" {
		return a, false
	}
	if strings.EqualFold(a.name, a.address) {
		a.name = ""
	}
	return a, true
}

// topLevelIndex finds c outside quoted strings and comments, or -1.
func topLevelIndex(s string, c byte) int {
	inQuote, comment := false, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\\' && (inQuote || comment > 0):
			i++
		case ch == '"' && comment == 0:
			inQuote = !inQuote
		case inQuote:
		case ch == '(':
			comment++
		case ch == ')' && comment > 0:
			comment--
		case comment > 0:
		case ch == c:
			return i
		}
	}
	return -1
}

// stripCommentsKeep removes comments from s, appending their text to kept.
func stripCommentsKeep(s string, kept *[]string) string {
	var b, cb strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			if depth > 0 {
				cb.WriteRune(r)
			}
			depth++
		case r == ')' && depth > 0:
			depth--
			if depth == 0 {
				*kept = append(*kept, cb.String())
				cb.Reset()
			} else {
				cb.WriteRune(r)
			}
		case depth > 0:
			cb.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func cleanAddr(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>\"' \t")
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	return strings.TrimSpace(s)
}

// displayName unquotes a display name and decodes its encoded-words.
// RFC 2047 §5 forbids encoded-words inside quoted strings, but mailers
// send them and every reader decodes them, so this does too.
func displayName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(s)-1; i++ {
			if s[i] == '\\' && i+1 < len(s)-1 {
				i++
			}
			b.WriteByte(s[i])
		}
		s = b.String()
	} else {
		s = strings.ReplaceAll(s, "\"", "")
	}
	s, _ = decodeWords(s)
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return strings.Join(strings.Fields(s), " ")
}

// ---- RFC 2047 ---------------------------------------------------------------
