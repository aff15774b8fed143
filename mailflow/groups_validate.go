package mailflow

import (
	"errors"
	"regexp"
	"strings"
)

// The checks of a group's and a category's settings: the group service
// (mailflow/groups), which the JSON API and the web pages both call, and
// the category pages use them, so every face accepts and refuses the same
// input. Each
// returns an ErrInvalid FieldError naming the field (in the API's field
// names), or the cleaned value.

// Limits of a group's settings.
const (
	MaxGroupName    = 200
	MaxDescription  = 20000 // bytes of Markdown
	MaxLocation     = 300   // bytes
	MaxCategoryName = 100
)

// ValidateGroupName checks a group's display name.
func ValidateGroupName(name string) (string, error) { return ValidateName("name", name, MaxGroupName) }

// ValidateDescription checks a group's description (Markdown).
func ValidateDescription(d string) error {
	if len(d) > MaxDescription {
		return Invalid("description", "must be at most 20000 bytes")
	}
	return nil
}

// ValidateLocation checks location or display_location (field names it).
func ValidateLocation(field, s string) error {
	if len(s) > MaxLocation {
		return Invalid(field, "must be at most 300 bytes")
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return Invalid(field, "must be a single line")
	}
	return nil
}

// MaxSubjectTag bounds a group's subject tag, in bytes.
const MaxSubjectTag = 60

// ValidateSubjectTag checks a group's subject tag: one short line with no
// brackets of its own ("" is no tag).
func ValidateSubjectTag(s string) error {
	if len(s) > MaxSubjectTag {
		return Invalid("subject_tag", "must be at most 60 bytes")
	}
	if strings.ContainsAny(s, "[]\r\n\x00") {
		return Invalid("subject_tag", "must be one line without [ or ]")
	}
	return nil
}

// ParseJoinPolicy checks a join policy.
func ParseJoinPolicy(s string) (JoinPolicy, error) {
	if p := JoinPolicy(s); p.Valid() {
		return p, nil
	}
	return "", Invalid("join_policy", "must be open, request or invite")
}

// ParseVisibility checks a member list visibility.
func ParseVisibility(s string) (Visibility, error) {
	if v := Visibility(s); v.Valid() {
		return v, nil
	}
	return "", Invalid("member_list_visibility", "must be members or owners")
}

// ParseReplyTo checks a reply-to policy.
func ParseReplyTo(s string) (ReplyTo, error) {
	if r := ReplyTo(s); r.Valid() {
		return r, nil
	}
	return "", Invalid("reply_to", "must be group or sender")
}

// ParseDMARCFailure reads a group's DMARC failure setting.
func ParseDMARCFailure(s string) (DMARCFailure, error) {
	if d := DMARCFailure(s); d.Valid() {
		return d, nil
	}
	return "", Invalid("dmarc_failure", "must be hold or refuse")
}

var (
	categorySlugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62})$`)
	colorRE        = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// ValidateCategory checks a category's slug, name and colour (#rrggbb),
// collecting every problem, and returns it cleaned (colour lowercased).
func ValidateCategory(c Category) (Category, error) {
	errs := &FieldErrors{}
	c.Slug = strings.TrimSpace(c.Slug)
	if !categorySlugRE.MatchString(c.Slug) {
		errs.Add("slug", "use 1–63 lowercase letters, digits and hyphens, starting with a letter or digit")
	}
	name, err := ValidateName("name", c.Name, MaxCategoryName)
	var fe *FieldError
	if errors.As(err, &fe) {
		errs.Add("name", fe.Msg)
	}
	c.Name = name
	c.Color = strings.ToLower(strings.TrimSpace(c.Color))
	if !colorRE.MatchString(c.Color) {
		errs.Add("color", "must be a colour written #rrggbb")
	}
	if errs.Any() {
		return c, errs
	}
	return c, nil
}

// SplitAddresses reads a list of email addresses separated by commas,
// semicolons, spaces or new lines, as people paste them, and returns them
// checked, lowercased and without repeats. bad lists what is not an
// address.
func SplitAddresses(s string) (addrs, bad []string) {
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		a, err := NormalizeEmail(strings.Trim(f, "<>"))
		if err != nil {
			bad = append(bad, f)
			continue
		}
		a = strings.ToLower(a)
		if !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	return addrs, bad
}
