package digest

import (
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
)

// privateView is "Reply privately to AUTHOR" under a digest's thread
// (issue 19): the member's own private address to one of the thread's
// authors, as group mail's footer offers it.
type privateView struct {
	Author  string
	Address string
	to      int64
}

// offerPrivate adds the member's private address to its author, once
// per author and thread, unless the author is the member or takes no
// private messages.
func (r *Renderer) offerPrivate(views []privateView, memberID int64, it store.DigestItem) []privateView {
	if it.PrivateTo == 0 || it.PrivateTo == memberID {
		return views
	}
	for _, v := range views {
		if v.to == it.PrivateTo {
			return views
		}
	}
	addr := outbound.PrivateAddress(r.keys, it.GroupSlug, r.site.MailDomain,
		sign.PrivateAddress{ToID: it.PrivateTo, ThreadID: it.ThreadID, GivenTo: memberID})
	return append(views, privateView{Author: oneLine(it.AuthorName), Address: addr, to: it.PrivateTo})
}
