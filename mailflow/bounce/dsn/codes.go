package dsn

import (
	"strings"
)

// enhancedCode finds the first RFC 3463 status code in s: class 2, 4 or
// 5, subject and detail of one to three digits, standing alone (so that
// IP addresses and version numbers are not read as codes).
func enhancedCode(s string) string {
	for i := 0; i+5 <= len(s); i++ {
		c := s[i]
		if c != '2' && c != '4' && c != '5' || s[i+1] != '.' {
			continue
		}
		if i > 0 && (isDigit(s[i-1]) || s[i-1] == '.' || isLetter(s[i-1])) {
			continue
		}
		j := i + 2
		n := digits(s, j)
		if n < 1 || n > 3 || j+n >= len(s) || s[j+n] != '.' {
			continue
		}
		k := j + n + 1
		m := digits(s, k)
		if m < 1 || m > 3 {
			continue
		}
		end := k + m
		if end < len(s) && (isLetter(s[end]) || s[end] == '.' && end+1 < len(s) && isDigit(s[end+1])) {
			continue
		}
		return s[i:end]
	}
	return ""
}

// failureCode finds the first enhanced status code of class 4 or 5 in
// s: the transcript of a failed session also holds the successes before
// the failure ("250 2.1.0 Sender ok").
func failureCode(s string) string {
	for s != "" {
		c := enhancedCode(s)
		if c == "" || c[0] != '2' {
			return c
		}
		s = s[strings.Index(s, c)+len(c):]
	}
	return ""
}

// replyClass finds the first 4xx or 5xx SMTP reply code (RFC 5321
// §4.2) in s and returns its first digit.
func replyClass(s string) byte {
	for i := 0; i+3 <= len(s); i++ {
		c := s[i]
		if c != '4' && c != '5' || !isDigit(s[i+1]) || s[i+1] > '5' || !isDigit(s[i+2]) {
			continue
		}
		if i > 0 && !strings.ContainsRune(" \t\n([:;#-\"'<", rune(s[i-1])) {
			continue
		}
		if e := i + 3; e < len(s) && !strings.ContainsRune(" \t\n-),;:", rune(s[e])) {
			continue
		}
		return c
	}
	return 0
}

func digits(s string, i int) int {
	n := 0
	for i+n < len(s) && isDigit(s[i+n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
