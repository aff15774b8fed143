package mailflow

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
)

// Delivery is how a member receives a group's messages by email.
type Delivery string

const (
	DeliveryImmediate Delivery = "immediate" // an email for every message
	DeliveryDigest    Delivery = "digest"    // one daily digest at the member's local morning
	DeliveryWeekly    Delivery = "weekly"    // one weekly digest
	DeliveryNone      Delivery = "none"      // no email; read on the web
)

// Valid reports whether d is a known delivery mode.
func (d Delivery) Valid() bool {
	switch d {
	case DeliveryImmediate, DeliveryDigest, DeliveryWeekly, DeliveryNone:
		return true
	}
	return false
}

// Role is a member's role in one group.
type Role string

const (
	RoleMember    Role = "member"
	RoleModerator Role = "moderator"
	RoleOwner     Role = "owner"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleMember, RoleModerator, RoleOwner:
		return true
	}
	return false
}

// MemberStatus is where a membership stands.
type MemberStatus string

const (
	MemberActive    MemberStatus = "active"    // a full member
	MemberRequested MemberStatus = "requested" // asked to join a by-request group; owners decide
	MemberInvited   MemberStatus = "invited"   // invited to an invitation-only group; the user decides
	MemberBanned    MemberStatus = "banned"    // removed by an owner and kept out
)

// JoinPolicy says how people become members of a group.
type JoinPolicy string

const (
	JoinOpen    JoinPolicy = "open"
	JoinRequest JoinPolicy = "request"
	JoinInvite  JoinPolicy = "invite"
)

// Valid reports whether p is a known join policy.
func (p JoinPolicy) Valid() bool {
	switch p {
	case JoinOpen, JoinRequest, JoinInvite:
		return true
	}
	return false
}

// Visibility says who may see a group's member list.
type Visibility string

const (
	VisibleToMembers Visibility = "members"
	VisibleToOwners  Visibility = "owners"
)

// Valid reports whether v is a known visibility.
func (v Visibility) Valid() bool { return v == VisibleToMembers || v == VisibleToOwners }

// ReplyTo says where replies to a group's email go.
type ReplyTo string

const (
	ReplyToGroup  ReplyTo = "group"
	ReplyToSender ReplyTo = "sender"
)

// Valid reports whether r is a known reply-to policy.
func (r ReplyTo) Valid() bool { return r == ReplyToGroup || r == ReplyToSender }

// DMARCFailure says what a group does with a post whose From fails DMARC
// for a domain that publishes p=quarantine or p=reject.
type DMARCFailure string

const (
	DMARCHold   DMARCFailure = "hold"   // held for a moderator, who sees why
	DMARCRefuse DMARCFailure = "refuse" // not posted; the poster is told why
)

// Valid reports whether d is a known setting.
func (d DMARCFailure) Valid() bool { return d == DMARCHold || d == DMARCRefuse }

// SenderAuth is what checking a mailed post's From found (web and API
// posts have none: the session or token says who posts).
type SenderAuth struct {
	// Authenticated: the From domain is vouched for by DKIM or SPF aligned
	// with it (DMARC's test), whatever policy the domain publishes.
	Authenticated bool
	// DMARCFailed: the From fails DMARC for a domain that publishes
	// p=quarantine or p=reject.
	DMARCFailed bool
	// Summary says it in words: "sender verified by DKIM example.org".
	Summary string
}

// UserStatus is an account's standing.
type UserStatus string

const (
	UserActive      UserStatus = "active"
	UserBanned      UserStatus = "banned"
	UserDeactivated UserStatus = "deactivated"
)

// Permission is a site-wide capability beyond ordinary membership, granted
// by superusers (Connect's "Update Permissions").
type Permission string

const (
	PermCreateGroups     Permission = "create_groups"
	PermManageUsers      Permission = "manage_users"
	PermAddResources     Permission = "add_resources"
	PermViewReports      Permission = "view_reports"
	PermManageCategories Permission = "manage_categories"
	PermModerateGroups   Permission = "moderate_groups" // moderate every group, as its moderators do
)

// Permissions lists every permission, in display order (a new slice each
// time: callers may keep or change it).
func Permissions() []Permission {
	return []Permission{PermCreateGroups, PermAddResources, PermModerateGroups, PermManageUsers, PermViewReports, PermManageCategories}
}

// Label is how a permission is named on the user's page.
func (p Permission) Label() string {
	switch p {
	case PermCreateGroups:
		return "Create groups"
	case PermAddResources:
		return "Add resources"
	case PermModerateGroups:
		return "Moderate all groups"
	case PermManageUsers:
		return "Manage users"
	case PermViewReports:
		return "View reports"
	case PermManageCategories:
		return "Manage categories"
	}
	return string(p)
}

// MessageStatus is where a message stands in moderation.
type MessageStatus string

const (
	MessageApproved MessageStatus = "approved" // visible and delivered
	MessageHeld     MessageStatus = "held"     // waiting for a moderator
	MessageRejected MessageStatus = "rejected" // vetoed by a moderator
	MessageRemoved  MessageStatus = "removed"  // taken down after approval
)

// Source says how a message entered Parley.
type Source string

const (
	SourceAPI   Source = "api"
	SourceWeb   Source = "web"
	SourceEmail Source = "email"
)

// User is an account.
type User struct {
	ID              int64        `json:"id"`
	Email           string       `json:"email"`
	Name            string       `json:"name"`
	EmailVerifiedAt *time.Time   `json:"email_verified_at"`
	PasswordHash    string       `json:"-"`
	Timezone        string       `json:"timezone"`
	DefaultDelivery Delivery     `json:"default_delivery"`
	Status          UserStatus   `json:"status"`
	IsSuperuser     bool         `json:"is_superuser"`
	IsStaff         bool         `json:"is_staff"`
	Permissions     []Permission `json:"permissions"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`

	// The profile, as Connect's "Manage My Account".
	Title        string   `json:"title"`
	Organization string   `json:"organization"`
	Bio          string   `json:"bio"`
	Website      string   `json:"website"`
	SocialLinks  []string `json:"social_links"`
	PictureKey   string   `json:"picture_key,omitempty"`
	ShowGroups   bool     `json:"show_groups"` // list my groups on my profile

	TermsAcceptedAt   *time.Time `json:"terms_accepted_at"`
	PasswordChangedAt time.Time  `json:"-"`

	// Pausing mail and plain-text-only email (issue 19): no group mail
	// or digest before PausedUntil (nil, or past: not paused).
	PausedUntil    *time.Time `json:"paused_until"`
	PlainTextEmail bool       `json:"plain_text_email"` // group mail and digests as one text/plain part
}

// Verified reports whether the user has confirmed their email address.
func (u User) Verified() bool { return u.EmailVerifiedAt != nil }

// Has reports whether the user holds p, which superusers always do.
func (u User) Has(p Permission) bool {
	if u.IsSuperuser {
		return true
	}
	for _, q := range u.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// Category groups groups on the Explore page.
type Category struct {
	ID    int64  `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Color string `json:"color"`
}

// Group is a mailing list: every option of Connect's "Create a Group".
type Group struct {
	ID                   int64      `json:"id"`
	Slug                 string     `json:"slug"`
	Name                 string     `json:"name"`
	Description          string     `json:"description"`
	CategoryID           *int64     `json:"category_id"`
	PictureKey           string     `json:"picture_key,omitempty"`
	Official             bool       `json:"official"`
	JoinPolicy           JoinPolicy `json:"join_policy"`
	Listed               bool       `json:"listed"`
	Moderated            bool       `json:"moderated"`
	MemberListVisibility Visibility `json:"member_list_visibility"`
	ReplyTo              ReplyTo    `json:"reply_to"`
	Location             string     `json:"location"`
	DisplayLocation      string     `json:"display_location"`
	ArchivePublic        bool       `json:"archive_public"` // the archive is readable without signing in
	TrustPosts           int        `json:"trust_posts"`    // a new member's first posts held for moderation (0: none)
	AttachMaxKB          int        `json:"attach_max_kb"`  // files up to this size are attached to group email, larger ones linked (0: all linked)
	SubjectTag           *string    `json:"subject_tag"`    // "[tag]" before the subject of group email: nil is the group's name, "" none
	CreatedBy            *int64     `json:"created_by"`
	CreatedAt            time.Time  `json:"created_at"`
	UpdatedAt            time.Time  `json:"updated_at"`

	// DMARCFailure: what becomes of a mailed post whose From fails DMARC
	// for a domain with p=quarantine or p=reject (hold or refuse).
	DMARCFailure DMARCFailure `json:"dmarc_failure"`
}

// Public reports whether anyone signed in may read the group's threads:
// it is listed in Explore and open to join. Every other group is private.
func (g Group) Public() bool { return g.Listed && g.JoinPolicy == JoinOpen }

// Tag is the text in brackets before the subject of the group's email:
// its SubjectTag, or its name when it has none ("" means no tag).
func (g Group) Tag() string {
	if g.SubjectTag != nil {
		return *g.SubjectTag
	}
	return g.Name
}

// Membership is one user's relation to one group.
type Membership struct {
	GroupID     int64        `json:"group_id"`
	UserID      int64        `json:"user_id"`
	Role        Role         `json:"role"`
	Delivery    Delivery     `json:"delivery"`
	Status      MemberStatus `json:"status"`
	Whitelisted bool         `json:"whitelisted"`
	// SendOwnPosts: nil follows the post's source (off for posts sent by
	// email, which are in the sender's mailbox already; on otherwise).
	SendOwnPosts *bool     `json:"send_own_posts"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Active reports whether m is a full membership.
func (m *Membership) Active() bool { return m != nil && m.Status == MemberActive }

// Member is a membership joined with its user, for member lists.
type Member struct {
	Membership
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Thread is a conversation in a group.
type Thread struct {
	ID            int64     `json:"id"`
	GroupID       int64     `json:"group_id"`
	Subject       string    `json:"subject"`
	CreatedBy     *int64    `json:"created_by"`
	MessageCount  int       `json:"message_count"`
	CreatedAt     time.Time `json:"created_at"`
	LastMessageAt time.Time `json:"last_message_at"`
}

// Message is one post in a thread.
type Message struct {
	ID         int64         `json:"id"`
	ThreadID   int64         `json:"thread_id"`
	GroupID    int64         `json:"group_id"`
	ParentID   *int64        `json:"parent_id"`
	AuthorID   *int64        `json:"author_id"`
	AuthorName string        `json:"author_name"`
	FromEmail  string        `json:"-"`
	MessageID  string        `json:"message_id"`
	InReplyTo  string        `json:"in_reply_to,omitempty"`
	Subject    string        `json:"subject"`
	Body       string        `json:"body"`
	RawSource  []byte        `json:"-"` // as received, when posting; the store's reads leave it empty (it can be tens of MB)
	Source     Source        `json:"source"`
	Status     MessageStatus `json:"status"`
	CreatedAt  time.Time     `json:"created_at"`
	// SenderAuth is, for mail, what checking its From found, in words
	// ("" for web and API posts).
	SenderAuth string `json:"-"`
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// reservedSlugs cannot be group slugs: they are mailbox names Parley or the
// mail system uses, or would read as system mail.
var reservedSlugs = map[string]bool{
	"bounces": true, "no-reply": true, "noreply": true, "postmaster": true,
	"abuse": true, "admin": true, "root": true, "mailer-daemon": true,
	"hostmaster": true, "webmaster": true, "www": true, "api": true,
}

// ValidateSlug checks a group slug: it is the local part of the group's
// address, so lowercase letters, digits and inner hyphens only (no '+',
// which Parley uses for sub-addresses), at most 64 characters.
func ValidateSlug(slug string) error {
	if !slugRE.MatchString(slug) {
		return Invalid("slug", "use 1–64 lowercase letters, digits and hyphens, starting and ending with a letter or digit")
	}
	if reservedSlugs[slug] {
		return Invalid("slug", "is reserved")
	}
	return nil
}

// NormalizeEmail checks an email address and returns it trimmed. It takes
// a bare address only (no display name), at most 254 octets (RFC 5321 §4.5.3.1.3).
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid("email", "is required")
	}
	if len(s) > 254 || strings.ContainsAny(s, "\r\n<>\" ,;") {
		return "", Invalid("email", "is not a valid email address")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", Invalid("email", "is not a valid email address")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") && s[at+1:] != "localhost" {
		return "", Invalid("email", "is not a valid email address")
	}
	return s, nil
}

// ValidateName checks a person's or group's display name: required, one
// line (a name ends up in mail headers), at most max characters.
func ValidateName(field, name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", Invalid(field, "is required")
	case strings.ContainsAny(name, "\r\n\x00"):
		return "", Invalid(field, "must be a single line")
	case len([]rune(name)) > max:
		return "", Invalid(field, "is too long")
	}
	return name, nil
}
