package sign

import (
	"strconv"
	"strings"
)

// Private addresses, SLUG+p-TOKEN@MAIL_DOMAIN, carry a reply to one
// member alone (issue 19, "Reply to the author privately"). The token
// names the member written to, the thread the conversation starts from
// (a group thread, or the private thread it continues) and the member
// the address was given to, who alone may write to it; each recipient's
// copy of a message carries its own.
//
// Like VERP tokens it is lowercase ids in base 36 and a base32 MAC, so
// an MTA that lowercases the local part (RFC 5321 §2.4 lets servers
// treat it as they like) changes nothing: "a.t.g-MAC", 16 characters
// of MAC (80 bits) after a few of ids.

// PrivateAddress is what a private address says.
type PrivateAddress struct {
	ToID     int64 // the member the mail is for (the author written to)
	ThreadID int64 // the thread the conversation belongs to
	GivenTo  int64 // the member the address was given to: its only sender
}

// PrivateToken returns the token of a private address.
func (k Keys) PrivateToken(a PrivateAddress) string {
	return k.idsToken("private", a.ToID, a.ThreadID, a.GivenTo)
}

// VerifyPrivate checks a token made by PrivateToken, in any case.
func (k Keys) VerifyPrivate(token string) (PrivateAddress, error) {
	ids, err := k.verifyIDs("private", token, 3)
	if err != nil {
		return PrivateAddress{}, err
	}
	return PrivateAddress{ToID: ids[0], ThreadID: ids[1], GivenTo: ids[2]}, nil
}

// idsToken signs several ids, dot-separated in base 36, for an address
// local part: "a.b.c-MAC".
func (k Keys) idsToken(purpose string, ids ...int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 36)
	}
	s := strings.Join(parts, ".")
	return s + "-" + b32.EncodeToString(mac(k.Current, purpose, s)[:verpMACLen])
}

// verifyIDs checks a token made by idsToken with n positive ids.
func (k Keys) verifyIDs(purpose, token string, n int) ([]int64, error) {
	s, sig, ok := strings.Cut(strings.ToLower(token), "-")
	if !ok {
		return nil, ErrBadToken
	}
	got, err := b32.DecodeString(sig)
	if err != nil || len(got) != verpMACLen || !k.check(purpose, s, got) {
		return nil, ErrBadToken
	}
	parts := strings.Split(s, ".")
	if len(parts) != n {
		return nil, ErrBadToken
	}
	ids := make([]int64, n)
	for i, p := range parts {
		if ids[i], err = strconv.ParseInt(p, 36, 64); err != nil || ids[i] <= 0 {
			return nil, ErrBadToken
		}
	}
	return ids, nil
}
