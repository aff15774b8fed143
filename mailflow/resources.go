package mailflow

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Resources are files shared with a group: uploaded on the web, or sent
// to the group as email attachments. Their content lives in the blob
// store; a Resource is what the pages and the search know about it.

// ResourceKind is what a resource's content is, as the type filter and the
// icons show it. It is detected from the content, never from the name.
type ResourceKind string

const (
	KindPDF          ResourceKind = "pdf"
	KindDocument     ResourceKind = "document"
	KindSpreadsheet  ResourceKind = "spreadsheet"
	KindPresentation ResourceKind = "presentation"
	KindImage        ResourceKind = "image"
	KindText         ResourceKind = "text"
	KindArchive      ResourceKind = "archive"
)

// ResourceKinds lists the kinds in the order the type filter offers them
// (a new slice each time: callers may keep or change it).
func ResourceKinds() []ResourceKind {
	return []ResourceKind{KindPDF, KindDocument, KindSpreadsheet, KindPresentation, KindImage, KindText, KindArchive}
}

// Valid reports whether k is a known kind.
func (k ResourceKind) Valid() bool {
	for _, v := range ResourceKinds() {
		if v == k {
			return true
		}
	}
	return false
}

// Label names the kind for people.
func (k ResourceKind) Label() string {
	switch k {
	case KindPDF:
		return "PDF"
	case KindDocument:
		return "Document"
	case KindSpreadsheet:
		return "Spreadsheet"
	case KindPresentation:
		return "Presentation"
	case KindImage:
		return "Image"
	case KindText:
		return "Text"
	case KindArchive:
		return "Archive"
	}
	return string(k)
}

// Tag labels resources, so members find them by keyword (Connect's tags,
// managed in Admin › Tags).
type Tag struct {
	ID        int64     `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"-"`
	UpdatedAt time.Time `json:"-"`
}

// Resource is one shared file.
type Resource struct {
	ID          int64
	GroupID     int64
	UploaderID  *int64 // nil: the uploader's account is gone, or mail from no account
	MessageID   *int64 // the message it came attached to, if any
	Name        string // as people named it
	Filename    string // as uploaded or attached, without any directory
	ContentType string // detected from the content
	Kind        ResourceKind
	Size        int64
	ContentHash string // SHA-256, hex
	BlobKey     string // the content in the blob store
	ThumbKey    string // an image's thumbnail in the blob store; "" for none
	Tags        []Tag
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Limits of resources and tags.
const (
	MaxResourceName = 300
	MaxTagName      = 100
	MaxTagsPerFile  = 20
	MaxFilename     = 255
)

var tagSlugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateResourceName checks the name a resource is listed under.
func ValidateResourceName(name string) (string, error) {
	// A resource's name stands for its file name on every page, so it
	// loses the bidirectional controls that CleanFilename drops.
	name = strings.Map(func(r rune) rune {
		if bidiControl(r) {
			return -1
		}
		return r
	}, name)
	return ValidateName("name", name, MaxResourceName)
}

// ValidateTag checks a tag's slug and name (Admin › Tags), collecting
// every problem, and returns it trimmed.
func ValidateTag(t Tag) (Tag, error) {
	errs := &FieldErrors{}
	t.Slug = strings.TrimSpace(t.Slug)
	if !tagSlugRE.MatchString(t.Slug) {
		errs.Add("slug", "use 1–63 lowercase letters, digits and hyphens, starting with a letter or digit")
	}
	name, err := ValidateName("name", t.Name, MaxTagName)
	if err != nil {
		errs.Add("name", FieldMsg(err))
	}
	t.Name = name
	if errs.Any() {
		return t, errs
	}
	return t, nil
}

// FieldMsg returns the message of a FieldError, or err's text.
func FieldMsg(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Msg
	}
	return err.Error()
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

// TagSlug makes the slug of a tag typed by name: lowercase ASCII letters
// and digits joined by hyphens ("Annual Report 2024" → annual-report-2024).
// A name with none of those (日本語) gets "tag-" and a short hash of it, so
// every name has a stable slug.
func TagSlug(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(name)), "-"), "-")
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-")
	}
	if s == "" {
		sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(name))))
		s = "tag-" + hex.EncodeToString(sum[:4])
	}
	return s
}

// ParseTags reads a comma-separated list of tag names, as typed in the
// upload and edit forms: trimmed, empty ones skipped, the same tag (by
// slug) kept once, in the order typed. Each gets its slug; the store finds
// or creates the tags.
func ParseTags(s string) ([]Tag, error) {
	var out []Tag
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ",") {
		name := strings.Join(strings.Fields(part), " ")
		if name == "" {
			continue
		}
		if len([]rune(name)) > MaxTagName {
			return nil, Invalid("tags", "each tag must be at most 100 characters")
		}
		if strings.ContainsRune(name, 0) {
			return nil, Invalid("tags", "a tag cannot contain that character")
		}
		slug := TagSlug(name)
		if seen[slug] {
			continue
		}
		seen[slug] = true
		out = append(out, Tag{Slug: slug, Name: name})
	}
	if len(out) > MaxTagsPerFile {
		return nil, Invalid("tags", "give at most 20 tags")
	}
	return out, nil
}

// TagList writes tags as the forms show them: "a, b, c".
func TagList(tags []Tag) string {
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// CleanFilename keeps the last element of a file name as a client sent it
// (browsers on Windows may send a whole path), without control characters,
// at most MaxFilename bytes; "file" when nothing is left. Bidirectional
// controls go too: "invoice\u202Efdp.exe" shows as "invoiceexe.pdf", a
// program dressed as a document (Unicode TR #9; CVE-2021-42574's trick).
func CleanFilename(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' || bidiControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	name = strings.ToValidUTF8(name, "")
	for len(name) > MaxFilename {
		rs := []rune(name)
		name = string(rs[:len(rs)-1])
	}
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// bidiControl reports the Unicode bidirectional formatting characters:
// the embeddings and overrides (U+202A–U+202E), the isolates
// (U+2066–U+2069), and the implicit marks (U+200E, U+200F, U+061C).
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C
}

// HumanSize writes a byte count for people, in binary units as the limit
// is set ("50 MB" for RESOURCE_MAX_BYTES=52428800): "820 bytes", "14 KB",
// "3.2 MB".
func HumanSize(n int64) string {
	const kb, mb = 1 << 10, 1 << 20
	switch {
	case n < kb:
		return strconv.FormatInt(n, 10) + " bytes"
	case n < mb:
		return strconv.FormatInt((n+kb/2)/kb, 10) + " KB"
	case n < 10*mb:
		return strconv.FormatFloat(float64(n)/mb, 'f', 1, 64) + " MB"
	}
	return strconv.FormatInt((n+mb/2)/mb, 10) + " MB"
}
