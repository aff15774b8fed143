package urls

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
)

// Route patterns, in gin's syntax. The router registers these pages with
// them and Map fills them in, so the two cannot drift.
const (
	GroupPath         = "/g/:slug"
	ThreadPath        = "/g/:slug/t/:id"
	ArchivePath       = "/g/:slug/archive"
	ModerationPath    = "/g/:slug/moderation"
	ContactOwnersPath = "/g/:slug/contact-owners"       // write to every owner
	ContactOwnerPath  = "/g/:slug/contact-owners/:user" // write to one owner
	WritePrivatePath  = "/g/:slug/write/:user"          // write privately to one member (issue 19)
	AcceptInvitePath  = "/g/:slug/accept-invite"        // ?token=
	UnsubscribePath   = "/u/:token"
	UndoPath          = "/undo/:token"
	EmailSettingsPath = "/email-settings/:token"
	JoinPath          = "/join/:token"
	ReenablePath      = "/mail/reenable/:token"
	ModeratePath      = "/moderate/:token"
	VerifyEmailPath   = "/verify-email"      // ?token=
	ConfirmEmailPath  = "/confirm-new-email" // ?token=
	ResetPasswordPath = "/reset-password"    // ?token=
	InvitePath        = "/invite"            // ?token=
	ResourcePath      = "/resources/:id"
	FilePath          = "/files/:token"
	PausePath         = "/pause/:token"       // pause all mail until a date (issue 19)
	ThreadMailPath    = "/thread-mail/:token" // mute or follow a conversation (issue 19)
)

// Map builds absolute URLs under ORIGIN, keeping its path prefix, and
// signs the links that need no login.
type Map struct {
	base string // scheme://host/prefix, without a trailing slash
	keys sign.Keys
}

// New returns the map of origin, which must be an absolute http(s) URL;
// its user, query and fragment are dropped.
func New(origin *url.URL, keys sign.Keys) (*Map, error) {
	if origin == nil || (origin.Scheme != "https" && origin.Scheme != "http") || origin.Host == "" {
		return nil, errors.New("urls: origin must be an absolute http(s) URL")
	}
	b := *origin
	b.User, b.RawQuery, b.Fragment, b.RawFragment, b.ForceQuery = nil, "", "", "", false
	return &Map{base: strings.TrimRight(b.String(), "/"), keys: keys}, nil
}

// Path fills pattern's ":name" segments with args, in order, each
// escaped as one path segment. It panics on a count mismatch: that is a
// programming error, caught by any test that renders the link.
func Path(pattern string, args ...string) string {
	return string(appendPath(nil, pattern, args...))
}

// appendPath appends Path(pattern, args...) to dst.
func appendPath(dst []byte, pattern string, args ...string) []byte {
	n, first := 0, true
	for seg := range strings.SplitSeq(pattern, "/") {
		if !first {
			dst = append(dst, '/')
		}
		first = false
		if !strings.HasPrefix(seg, ":") {
			dst = append(dst, seg...)
			continue
		}
		if n >= len(args) {
			panic("urls: too few arguments for " + pattern)
		}
		dst = append(dst, url.PathEscape(args[n])...)
		n++
	}
	if n != len(args) {
		panic("urls: too many arguments for " + pattern)
	}
	return dst
}

// abs is the absolute URL of a path under the origin.
func (m *Map) abs(path string) string { return m.base + path }

// withToken is the absolute URL of path with ?token=.
func (m *Map) withToken(path, token string) string {
	return m.abs(path) + "?" + url.Values{"token": {token}}.Encode()
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// Group is a group's page.
func (m *Map) Group(slug string) string { return m.abs(Path(GroupPath, slug)) }

// Thread is a thread's page.
func (m *Map) Thread(slug string, threadID int64) string {
	return m.abs(Path(ThreadPath, slug, id(threadID)))
}

// Message is one message on its thread's page.
func (m *Map) Message(slug string, threadID, messageID int64) string {
	return m.Thread(slug, threadID) + "#m" + id(messageID)
}

// Archive is a group's archive by month (RFC 2369 List-Archive).
func (m *Map) Archive(slug string) string { return m.abs(Path(ArchivePath, slug)) }

// Moderation is a group's queue of held messages.
func (m *Map) Moderation(slug string) string { return m.abs(Path(ModerationPath, slug)) }

// Resource is a resource's page (signed in).
func (m *Map) Resource(resourceID int64) string { return m.abs(Path(ResourcePath, id(resourceID))) }

// File downloads resourceID for userID without signing in: the link in
// group mail and digests for a message's file. It never expires, as the
// mail stays in the mailbox; the download checks each time that userID
// still may see the file (mailflow.CanAccessResource).
func (m *Map) File(userID, resourceID int64) string {
	return m.signed(FilePath, sign.Link{Purpose: sign.PurposeFile, UserID: userID, Value: id(resourceID)})
}

// signed is the absolute URL of pattern with its one ":name" segment
// filled by l's token, written in one buffer: mail carries several per
// recipient. Tokens are unreserved characters, which a path segment keeps
// as they are (RFC 3986 §3.3).
func (m *Map) signed(pattern string, l sign.Link) string {
	before, rest, _ := strings.Cut(pattern, ":")
	_, after, _ := strings.Cut(rest, "/")
	if rest == "" || strings.Contains(after, ":") {
		return m.abs(Path(pattern, m.keys.Token(l)))
	}
	if after != "" {
		after = "/" + after
	}
	var buf [256]byte
	b := append(buf[:0], m.base...)
	b = append(b, before...)
	b = m.keys.AppendToken(b, l)
	return string(append(b, after...))
}

// Unsubscribe stops userID's email from groupID, or all their email when
// groupID is 0. It never expires: it is in every message.
func (m *Map) Unsubscribe(userID, groupID int64) string {
	return m.signed(UnsubscribePath, sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: userID, GroupID: groupID})
}

// UnsubscribeDigests stops all of userID's digests.
func (m *Map) UnsubscribeDigests(userID int64) string {
	return m.signed(UnsubscribePath, sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: userID, Value: "digest"})
}

// EmailSettings changes userID's email setting for groupID.
func (m *Map) EmailSettings(userID, groupID int64) string {
	return m.signed(EmailSettingsPath, sign.Link{Purpose: sign.PurposeSettings, UserID: userID, GroupID: groupID})
}

// Join confirms a subscribe by email: addr joins (or asks to join) groupID.
func (m *Map) Join(groupID int64, addr string, expires time.Time) string {
	return m.signed(JoinPath, sign.Link{Purpose: sign.PurposeJoin, GroupID: groupID, Value: addr, Expires: expires})
}

// Reenable starts mail to addr again after bounces or a complaint.
func (m *Map) Reenable(addr string) string {
	return m.signed(ReenablePath, sign.Link{Purpose: sign.PurposeReenable, Value: addr})
}

// ModerationDecision is moderatorID's link to approve or veto (decision)
// the held message messageID.
func (m *Map) ModerationDecision(moderatorID, messageID int64, decision string, expires time.Time) string {
	return m.signed(ModeratePath, sign.Link{Purpose: sign.PurposeModerate, UserID: moderatorID, GroupID: messageID,
		Value: decision, Expires: expires})
}

// Verify proves that userID reads mail at addr (signing up).
func (m *Map) Verify(userID int64, addr string, expires time.Time) string {
	return m.withToken(VerifyEmailPath, m.keys.Token(sign.Link{Purpose: sign.PurposeVerify, UserID: userID, Value: addr, Expires: expires}))
}

// ConfirmNewEmail moves userID to addr, which the link proves.
func (m *Map) ConfirmNewEmail(userID int64, addr string, expires time.Time) string {
	return m.withToken(ConfirmEmailPath, m.keys.Token(sign.Link{Purpose: sign.PurposeNewEmail, UserID: userID, Value: addr, Expires: expires}))
}

// ResetPassword sets a new password for userID; fingerprint names the
// current one, so the link works once.
func (m *Map) ResetPassword(userID int64, fingerprint string, expires time.Time) string {
	return m.withToken(ResetPasswordPath, m.keys.Token(sign.Link{Purpose: sign.PurposeReset, UserID: userID, Value: fingerprint, Expires: expires}))
}

// SiteInvitation signs up the address key names, confirmed, and joins
// groupID if it is not 0.
func (m *Map) SiteInvitation(groupID int64, key string, expires time.Time) string {
	return m.withToken(InvitePath, m.keys.Token(sign.Link{Purpose: sign.PurposeSiteInvite, GroupID: groupID, Value: key, Expires: expires}))
}

// GroupInvitation lets addr join the invitation-only group.
func (m *Map) GroupInvitation(slug string, groupID int64, addr string, expires time.Time) string {
	return m.withToken(Path(AcceptInvitePath, slug), m.keys.Token(sign.Link{Purpose: sign.PurposeInvite, GroupID: groupID, Value: addr, Expires: expires}))
}

// Pause lets userID pause all their mail until a date, or end a pause
// early (issue 19). It never expires: it is in every message and digest.
func (m *Map) Pause(userID int64) string {
	return m.signed(PausePath, sign.Link{Purpose: sign.PurposePause, UserID: userID})
}

// ThreadMail sets userID's choice for threadID (mute, follow, or back to
// the group setting): the "Mute this conversation" and "Follow this
// conversation" links of group mail and digests. It never expires: the
// mail stays in the mailbox, and the link only ever changes its own
// member's mail.
func (m *Map) ThreadMail(userID, threadID int64, p mailflow.ThreadPref) string {
	return m.signed(ThreadMailPath, sign.Link{Purpose: sign.PurposeThreadMail, UserID: userID, GroupID: threadID, Value: string(p)})
}
