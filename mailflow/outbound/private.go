package outbound

import (
	"context"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
)

// Private replies (issue 19): group mail offers each recipient their own
// private address to the author ("Reply to the author privately"), and
// a message of a private conversation between two members has as
// Reply-To its recipient's private address to the other, so that
// answering it stays between them and neither sees the other's address.

// PrivateAddress is the address of a private reply in group slug:
// SLUG+p-TOKEN@domain, the one place it is spelled (group mail and
// digests).
func PrivateAddress(keys sign.Keys, slug, domain string, a sign.PrivateAddress) string {
	return slug + "+p-" + keys.PrivateToken(a) + "@" + domain
}

// privacy is what a message's copies need to know for their private
// addresses, read once per message with its rendering.
type privacy struct {
	slug     string
	threadID int64
	author   int64             // 0: no author to offer (deleted, or they take no private messages)
	pair     *mailflow.Private // a private conversation between two members; nil otherwise
}

// privacyOf reads m's thread and author for privacy.
func (s *Sender) privacyOf(ctx context.Context, g mailflow.Group, m mailflow.Message) (privacy, error) {
	pv := privacy{slug: g.Slug, threadID: m.ThreadID}
	t, err := s.store.ThreadWithPrivacy(ctx, m.ThreadID)
	if err != nil {
		return pv, err
	}
	if p := t.Private(); p != nil {
		if p.OwnerID != 0 {
			pv.pair = p
		}
		return pv, nil // a private thread offers no further private replies
	}
	if m.AuthorID != nil {
		on, err := s.store.AcceptsPrivate(ctx, *m.AuthorID)
		if err != nil {
			return pv, err
		}
		if on {
			pv.author = *m.AuthorID
		}
	}
	return pv, nil
}

// addresses are userID's private addresses in a copy: the footer's
// "Reply to the author privately", or the Reply-To of a private
// conversation (naming the other member of it).
func (s *Sender) addresses(pv privacy, userID int64) (footer, replyTo string) {
	if userID == 0 {
		return "", ""
	}
	if pv.pair != nil {
		other := pv.pair.MemberID
		if other == userID {
			other = pv.pair.OwnerID
		}
		return "", PrivateAddress(s.keys, pv.slug, s.domain, sign.PrivateAddress{ToID: other, ThreadID: pv.threadID, GivenTo: userID})
	}
	if pv.author != 0 && pv.author != userID {
		return PrivateAddress(s.keys, pv.slug, s.domain, sign.PrivateAddress{ToID: pv.author, ThreadID: pv.threadID, GivenTo: userID}), ""
	}
	return "", ""
}

// cleanAddressOrEmpty is s when it is a clean address, else "" (and the
// footer offers no private reply).
func cleanAddressOrEmpty(s string) string {
	addr, _ := cleanAddress(s)
	return addr
}
