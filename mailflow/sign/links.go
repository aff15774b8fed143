package sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrBadToken is any token that does not verify: tampered, truncated,
// made with another key, for another purpose, or expired.
var ErrBadToken = errors.New("invalid or expired link")

// Purpose names what a signed link does. It is part of the MAC input, so
// an unsubscribe token is useless as, say, an undo token.
type Purpose string

const (
	PurposeUnsubscribe Purpose = "unsub"      // stop one group's email (GroupID set) or all email (GroupID 0)
	PurposeSettings    Purpose = "settings"   // change one group's delivery mode
	PurposeUndo        Purpose = "undo"       // undo an unsubscribe, for a while
	PurposeJoin        Purpose = "join"       // join GroupID with the address in Value (a subscribe by email)
	PurposeReenable    Purpose = "reenable"   // start mail again to the address in Value after bounces or a complaint
	PurposeVerify      Purpose = "verify"     // confirm that UserID receives mail at the address in Value
	PurposeNewEmail    Purpose = "newemail"   // move UserID to the address in Value, which this link proves
	PurposeReset       Purpose = "reset"      // set a new password; Value fingerprints the current one, so the link works once
	PurposeModerate    Purpose = "moderate"   // moderator UserID decides on the held message GroupID ("approve" or "veto" in Value)
	PurposeInvite      Purpose = "invite"     // join the invitation-only group GroupID as the address in Value
	PurposeSiteInvite  Purpose = "siteinvite" // sign up as the address in Value, confirmed (and join GroupID, if set)
	PurposeFile        Purpose = "file"       // UserID downloads the resource whose id is Value, if they still may
	PurposePause       Purpose = "pause"      // UserID pauses all their mail until a date (issue 19)
	// PurposeThreadMail (issue 19): UserID's choice for the thread whose
	// id is in GroupID: Value "mute", "follow" or "" (the group setting).
	PurposeThreadMail Purpose = "threadmail"
)

// Link is what a signed link says.
type Link struct {
	Purpose Purpose
	UserID  int64
	GroupID int64     // 0 means "all groups"
	Value   string    // purpose-specific (the delivery mode an undo restores)
	Expires time.Time // zero: never (unsubscribe links in mail must keep working)
}

// Keys signs with the current EMAIL_SECRET_KEY and also accepts the
// previous one (EMAIL_SECRET_KEY_PREVIOUS), so rotating the key keeps the
// links in mail already sent working.
type Keys struct {
	Current  string
	Previous string
}

var b64 = base64.RawURLEncoding

// macLen is the MAC length kept in links: 128 bits, plenty against
// forgery, and short enough for tidy URLs.
const macLen = 16

// Token returns a URL-safe token for l.
func (k Keys) Token(l Link) string {
	var buf [160]byte
	return string(k.AppendToken(buf[:0], l))
}

// AppendToken appends Token(l) to dst: the payload and its MAC, each in
// unpadded base64url, joined by ".". Every character is unreserved in a
// URL (RFC 3986 §2.3), so a token needs no escaping in a path.
func (k Keys) AppendToken(dst []byte, l Link) []byte {
	var buf [96]byte
	payload := l.appendEncoded(buf[:0])
	var sum [sha256.Size]byte
	m := appendMAC(sum[:0], k.Current, "link", payload)[:macLen]
	dst = b64.AppendEncode(dst, payload)
	dst = append(dst, '.')
	return b64.AppendEncode(dst, m)
}

// Verify checks a token made by Token and returns what it says.
func (k Keys) Verify(token string, now time.Time) (Link, error) {
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return Link{}, ErrBadToken
	}
	payload, err1 := b64.DecodeString(p)
	got, err2 := b64.DecodeString(s)
	if err1 != nil || err2 != nil || len(got) != macLen {
		return Link{}, ErrBadToken
	}
	if !k.check("link", string(payload), got) {
		return Link{}, ErrBadToken
	}
	l, err := decodeLink(string(payload))
	if err != nil {
		return Link{}, ErrBadToken
	}
	if !l.Expires.IsZero() && now.After(l.Expires) {
		return Link{}, ErrBadToken
	}
	return l, nil
}

// check compares in constant time against the MAC under each key.
func (k Keys) check(purpose, payload string, got []byte) bool {
	ok := false
	for _, key := range []string{k.Current, k.Previous} {
		if key == "" {
			continue
		}
		want := mac(key, purpose, payload)[:len(got)]
		if hmac.Equal(want, got) {
			ok = true
		}
	}
	return ok
}

// appendEncoded: purpose|user|group|value|expiry (unix seconds, 0 for none).
func (l Link) appendEncoded(dst []byte) []byte {
	var exp int64
	if !l.Expires.IsZero() {
		exp = l.Expires.Unix()
	}
	dst = append(dst, l.Purpose...)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, l.UserID, 10)
	dst = append(dst, '|')
	dst = strconv.AppendInt(dst, l.GroupID, 10)
	dst = append(dst, '|')
	dst = append(dst, l.Value...)
	dst = append(dst, '|')
	return strconv.AppendInt(dst, exp, 10)
}

func decodeLink(s string) (Link, error) {
	f := strings.Split(s, "|")
	if len(f) != 5 {
		return Link{}, fmt.Errorf("want 5 fields, got %d", len(f))
	}
	uid, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return Link{}, err
	}
	gid, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return Link{}, err
	}
	exp, err := strconv.ParseInt(f[4], 10, 64)
	if err != nil {
		return Link{}, err
	}
	l := Link{Purpose: Purpose(f[0]), UserID: uid, GroupID: gid, Value: f[3]}
	if exp != 0 {
		l.Expires = time.Unix(exp, 0)
	}
	return l, nil
}

// VERP tokens name one delivery (one message to one recipient) in the
// envelope sender, bounces+TOKEN@MAIL_DOMAIN, so a bounce maps back to
// exactly that delivery. Mail systems may change the case of a local part,
// so the token is lowercase base32 and verified case-insensitively.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const verpMACLen = 10 // 80 bits: 16 characters

// VERPToken returns the token for a delivery id.
func (k Keys) VERPToken(deliveryID int64) string { return k.idToken("verp", deliveryID) }

// VerifyVERP returns the delivery id a VERP token names.
func (k Keys) VerifyVERP(token string) (int64, error) { return k.verifyID("verp", token) }

// ReplyToken returns the token of a thread's reply address,
// SLUG+r-TOKEN@MAIL_DOMAIN: mail to it joins that thread whatever its
// headers say.
func (k Keys) ReplyToken(threadID int64) string { return k.idToken("reply", threadID) }

// VerifyReply returns the thread id a reply token names.
func (k Keys) VerifyReply(token string) (int64, error) { return k.verifyID("reply", token) }

// idToken signs an id for use in an address local part.
func (k Keys) idToken(purpose string, id int64) string {
	var buf [48]byte
	return string(k.appendIDToken(buf[:0], purpose, id))
}

// appendIDToken appends idToken(purpose, id) to dst: the id in base 36,
// "-", and its MAC in base32.
func (k Keys) appendIDToken(dst []byte, purpose string, id int64) []byte {
	start := len(dst)
	dst = strconv.AppendInt(dst, id, 36)
	var sum [sha256.Size]byte
	m := appendMAC(sum[:0], k.Current, purpose, dst[start:])
	dst = append(dst, '-')
	return b32.AppendEncode(dst, m[:verpMACLen])
}

func (k Keys) verifyID(purpose, token string) (int64, error) {
	token = strings.ToLower(token)
	id, s, ok := strings.Cut(token, "-")
	if !ok {
		return 0, ErrBadToken
	}
	got, err := b32.DecodeString(s)
	if err != nil || len(got) != verpMACLen || !k.check(purpose, id, got) {
		return 0, ErrBadToken
	}
	n, err := strconv.ParseInt(id, 36, 64)
	if err != nil || n <= 0 {
		return 0, ErrBadToken
	}
	return n, nil
}

// ModerateToken names a moderator and a held message in the reply
// address of a moderation notice (SLUG+m-TOKEN@MAIL_DOMAIN), so that
// answering "approve" or "veto" to the notice decides; lowercase like
// VERP tokens, since mail systems may change the case of local parts.
func (k Keys) ModerateToken(moderatorID, messageID int64) string {
	return k.idsToken("modreply", moderatorID, messageID)
}

// VerifyModerate checks a token made by ModerateToken.
func (k Keys) VerifyModerate(token string) (moderatorID, messageID int64, err error) {
	ids, err := k.verifyIDs("modreply", token, 2)
	if err != nil {
		return 0, 0, err
	}
	return ids[0], ids[1], nil
}

// Sent names one message Parley sent to one recipient, in the signed
// X-Parley-Delivery header of that recipient's copy, so that a report
// which returns the copy (an ARF complaint from a feedback loop, a DSN
// that reached another address) proves which delivery it is about.
type Sent struct {
	Kind SentKind
	ID   int64
}

// SentKind says what table a Sent's ID is in.
type SentKind string

// The kinds of mail that carry a delivery header. System mail (account
// and moderation notices) has no delivery of its own and carries none.
const (
	SentPost   SentKind = "p" // a row of deliveries: one post to one member
	SentDigest SentKind = "d" // a row of digests: one digest to one member
)

// DeliveryHeaderField is the header field that carries DeliveryHeader's
// value in every copy of a post and every digest.
const DeliveryHeaderField = "X-Parley-Delivery"

// DeliveryHeader returns the value of a copy's X-Parley-Delivery header:
// the kind, a dot, and an id token (lowercase, like VERP tokens, since
// some mailers rewrite header case when they return a message).
func (k Keys) DeliveryHeader(s Sent) string {
	var buf [48]byte
	b := append(buf[:0], s.Kind...)
	b = append(b, '.')
	return string(k.appendIDToken(b, deliveryPurpose(s.Kind), s.ID))
}

// deliveryPurpose is the MAC purpose of a delivery header of kind.
func deliveryPurpose(kind SentKind) string {
	switch kind {
	case SentPost:
		return "delivery-p"
	case SentDigest:
		return "delivery-d"
	}
	return "delivery-" + string(kind)
}

// VerifyDeliveryHeader checks a value made by DeliveryHeader.
func (k Keys) VerifyDeliveryHeader(v string) (Sent, error) {
	kind, tok, ok := strings.Cut(strings.ToLower(strings.TrimSpace(v)), ".")
	if !ok || (SentKind(kind) != SentPost && SentKind(kind) != SentDigest) {
		return Sent{}, ErrBadToken
	}
	id, err := k.verifyID(deliveryPurpose(SentKind(kind)), tok)
	if err != nil {
		return Sent{}, err
	}
	return Sent{Kind: SentKind(kind), ID: id}, nil
}
