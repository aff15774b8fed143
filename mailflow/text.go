package mailflow

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// UpperFirst starts s with a capital letter: the errors of this package
// read "is required", and pages and answers show them as sentences.
func UpperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// CleanText makes text that came from outside (mail, above all) fit what
// Parley stores and shows: valid UTF-8, invalid sequences replaced with
// U+FFFD, and no NUL bytes, which PostgreSQL's text type refuses. Decode
// a declared charset first; this is for what is left.
func CleanText(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// Location returns the IANA time zone named tz, and whether it exists;
// an unknown name gives UTC, so a bad setting never costs anyone a page
// or a digest.
func Location(tz string) (*time.Location, bool) {
	if tz == "" || tz == "Local" {
		return time.UTC, false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC, false
	}
	return loc, true
}

// Zones remembers the zones it has loaded, for a loop that converts
// times for many members at once: time.LoadLocation reads the zone
// database on every call. Make one per loop (a nil Zones loads every
// time); it is not safe for concurrent use.
type Zones map[string]*time.Location

// Get is Location(tz), from memory after the first time.
func (z Zones) Get(tz string) *time.Location {
	if loc, ok := z[tz]; ok {
		return loc
	}
	loc, _ := Location(tz)
	if z != nil {
		z[tz] = loc
	}
	return loc
}

// Address is the group's email address.
func (g Group) Address(mailDomain string) string { return g.Slug + "@" + mailDomain }
