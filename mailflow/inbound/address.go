package inbound

import (
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
)

// Kind is what a recipient address is for.
type Kind int

const (
	KindUnknown  Kind = iota
	KindPost          // SLUG@MAIL_DOMAIN: a new post or a reply
	KindReply         // SLUG+r-TOKEN@MAIL_DOMAIN: a reply to one thread
	KindBounce        // bounces+TOKEN@MAIL_DOMAIN: a delivery report
	KindCommand       // SLUG+subscribe@, +unsubscribe@, +help@, +owner@
	KindModerate      // SLUG+m-TOKEN@MAIL_DOMAIN: a moderator's answer to a moderation notice
	KindPrivate       // SLUG+p-TOKEN@MAIL_DOMAIN: a private reply to one member (private.go)
)

// Commands, as the part after '+'.
const (
	CmdSubscribe   = "subscribe"
	CmdUnsubscribe = "unsubscribe"
	CmdHelp        = "help"
	CmdOwner       = "owner"
)

// Route is what a recipient address means.
type Route struct {
	Kind     Kind
	Slug     string // the group (not for bounces)
	Command  string // KindCommand
	ThreadID int64  // KindReply, verified
	// KindModerate, verified: who answers, about which held message.
	ModeratorID, MessageID int64
	Token                  string              // KindBounce: the VERP token, verified later by the bounce code
	Private                sign.PrivateAddress // KindPrivate, verified
}

// ParseRecipient reads a recipient address in mailDomain. Local parts are
// case-insensitive here (RFC 5321 allows servers to choose; people type
// group addresses in any case). Only the shape and signatures are
// checked; whether the group exists is the caller's question.
func ParseRecipient(addr, mailDomain string, keys sign.Keys) (Route, bool) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || addr[at+1:] != strings.ToLower(mailDomain) {
		return Route{}, false
	}
	local := addr[:at]
	for _, r := range local {
		// Parley's own addresses use only these; anything else (spaces,
		// quotes, brackets) is someone else's address.
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '+' || r == '.' || r == '_') {
			return Route{}, false
		}
	}
	base, ext, hasExt := strings.Cut(local, "+")
	if (base == "no-reply" || base == "noreply") && !hasExt {
		// System mail comes from no-reply@: what comes back to it is
		// delivery reports (and the odd human reply, which nobody reads).
		return Route{Kind: KindBounce}, true
	}
	if base == "bounces" {
		if !hasExt || ext == "" {
			return Route{}, false
		}
		return Route{Kind: KindBounce, Token: ext}, true
	}
	if mailflow.ValidateSlug(base) != nil {
		return Route{}, false
	}
	if !hasExt {
		return Route{Kind: KindPost, Slug: base}, true
	}
	switch ext {
	case CmdSubscribe, CmdUnsubscribe, CmdHelp, CmdOwner:
		return Route{Kind: KindCommand, Slug: base, Command: ext}, true
	}
	if tok, ok := strings.CutPrefix(ext, "m-"); ok {
		mod, msg, err := keys.VerifyModerate(tok)
		if err != nil {
			return Route{}, false
		}
		return Route{Kind: KindModerate, Slug: base, ModeratorID: mod, MessageID: msg}, true
	}
	if tok, ok := strings.CutPrefix(ext, "p-"); ok {
		a, err := keys.VerifyPrivate(tok)
		if err != nil {
			return Route{}, false
		}
		return Route{Kind: KindPrivate, Slug: base, Private: a}, true
	}
	if tok, ok := strings.CutPrefix(ext, "r-"); ok {
		id, err := keys.VerifyReply(tok)
		if err != nil {
			return Route{}, false
		}
		return Route{Kind: KindReply, Slug: base, ThreadID: id}, true
	}
	return Route{}, false
}
