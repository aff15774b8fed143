// Package input owns one rule of every request Parley answers: what a
// person or program sends is text. A NUL byte or a byte sequence that is
// not UTF-8, in the path, the query string or a form field, is refused
// with 400 before any handler sees it, since PostgreSQL stores neither in
// a text column and a handler that passed one on would fail with a 500.
// The contents of uploaded files are not text and are not checked; their
// names are.
package input

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"
)

// Text reports whether s can be stored as text: valid UTF-8 without NUL.
func Text(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// Problem says which part of a request is not text.
type Problem struct {
	Field string // the query or form field; "" for the path
	Where string // "path", "query" or "form"
}

func (p *Problem) Error() string {
	switch p.Where {
	case "path":
		return "the address holds a NUL byte or bytes that are not UTF-8 text"
	case "query":
		return fmt.Sprintf("the query parameter %q holds a NUL byte or bytes that are not UTF-8 text", p.Field)
	}
	return fmt.Sprintf("the form field %q holds a NUL byte or bytes that are not UTF-8 text", p.Field)
}

// Check finds the first part of r that is not text: its path, the names
// and values of its query string, and the names and values of its form
// if it has been parsed already (ParseForm or ParseMultipartForm), with
// the names of uploaded files but not their contents. It reads no body.
func Check(r *http.Request) *Problem {
	if !Text(r.URL.Path) || !Text(r.URL.RawPath) {
		return &Problem{Where: "path"}
	}
	// ParseQuery keeps every pair it could read, whatever the error.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if f := firstBad(q); f != nil {
		return &Problem{Where: "query", Field: *f}
	}
	if f := firstBad(r.PostForm); f != nil {
		return &Problem{Where: "form", Field: *f}
	}
	if mf := r.MultipartForm; mf != nil {
		if f := firstBad(mf.Value); f != nil {
			return &Problem{Where: "form", Field: *f}
		}
		for _, name := range sortedKeys(mf.File) {
			if !Text(name) {
				return &Problem{Where: "form", Field: printable(name)}
			}
			for _, fh := range mf.File[name] {
				if !Text(fh.Filename) {
					return &Problem{Where: "form", Field: name}
				}
			}
		}
	}
	return nil
}

// firstBad returns the first field (in name order, so the answer is the
// same every time) whose name or a value is not text.
func firstBad(v map[string][]string) *string {
	for _, name := range sortedKeys(v) {
		bad := !Text(name)
		for _, s := range v[name] {
			bad = bad || !Text(s)
		}
		if bad {
			f := printable(name)
			return &f
		}
	}
	return nil
}

// printable makes a field name fit to show in a message.
func printable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
