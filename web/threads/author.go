package threads

import (
	"bytes"
	"net/mail"
	"strings"
)

// author is how a message's author is shown: the "avatar" partial reads
// Name and PictureKey.
type author struct {
	ID         int64
	Name       string
	PictureKey string
	Link       bool // to their profile; profiles are for signed-in members
}

// authorOf names a message's author for one viewer. Members show by name.
// A message whose account was deleted has neither author nor address
// ("Deleted member"). One from an address with no account shows that
// address only to the group's moderators, who deal with it; others see
// the name its From header gave, or "Non-member", never the address.
func authorOf(id *int64, name, picture, fromEmail string, fromHead []byte, moderator, signedIn bool) author {
	switch {
	case id != nil:
		return author{ID: *id, Name: name, PictureKey: picture, Link: signedIn}
	case fromEmail == "":
		return author{Name: "Deleted member"}
	case moderator:
		return author{Name: fromEmail}
	}
	if n := headerName(fromHead); n != "" {
		return author{Name: n}
	}
	return author{Name: "Non-member"}
}

// headerName returns the display name of the From header at the start of
// a raw message (RFC 5322 §3.6.2), decoded (RFC 2047), or "" when there
// is none. A "name" that is itself an address is no name.
func headerName(head []byte) string {
	if len(head) == 0 {
		return ""
	}
	// The head may be cut anywhere: end it, so the header block parses.
	msg, err := mail.ReadMessage(bytes.NewReader(append(bytes.Clone(head), "\r\n\r\n"...)))
	if err != nil {
		return ""
	}
	a, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		return ""
	}
	n := strings.TrimSpace(a.Name)
	if strings.Contains(n, "@") {
		return ""
	}
	return n
}
