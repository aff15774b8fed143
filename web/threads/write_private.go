package threads

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
)

// "Write privately" (issue 19): beside each message of a group thread,
// a member writes to its author alone at /g/SLUG/write/USER. It starts
// the same kind of private thread as writing to one owner, with any
// member of the group who takes private messages; the two read it here
// and by email (replies by mail go through Parley's private addresses,
// mailflow/inbound/private.go).

// writePrivateForm: GET /g/:slug/write/:user.
func (h *handler) writePrivateForm(c *gin.Context) {
	r, to, ok := h.loadPrivate(c)
	if !ok {
		return
	}
	if err := h.canWritePrivately(c, r, to); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.renderPrivate(c, r, to, http.StatusOK, nil, nil)
}

// writePrivate: POST /g/:slug/write/:user starts a private thread
// between the member and the one they write to; a message that fails
// comes back in the form with the reason beside it.
func (h *handler) writePrivate(c *gin.Context) {
	r, to, ok := h.loadPrivate(c)
	if !ok {
		return
	}
	sub := posting.Submission{Author: r.user, GroupID: r.group.ID, PrivateMemberID: r.user.ID,
		PrivateOwnerID: to.user.ID, ToMember: true, Source: mailflow.SourceWeb}
	h.sendPrivately(c, h.canWritePrivately(c, r, to), sub, "Your message was sent privately to "+to.user.Name+".",
		func(status int, form, errs map[string]string) { h.renderPrivate(c, r, to, status, form, errs) })
}

// loadPrivate reads the group and the member written to.
func (h *handler) loadPrivate(c *gin.Context) (reader, *addressee, bool) {
	r, ok := h.loadGroup(c)
	if !ok {
		return r, nil, false
	}
	to, ok := h.loadAddressee(c, r)
	return r, to, ok
}

// canWritePrivately is mailflow.CanWritePrivately with the addressee's
// setting read.
func (h *handler) canWritePrivately(c *gin.Context, r reader, to *addressee) error {
	accepts, err := h.Store.AcceptsPrivate(c.Request.Context(), to.user.ID)
	if err != nil {
		return err
	}
	return mailflow.CanWritePrivately(r.user, r.group, r.membership, to.membership, accepts)
}

func (h *handler) renderPrivate(c *gin.Context, r reader, to *addressee, status int, form, errs map[string]string) {
	p := contactPage{Group: r.group, Owner: &to.user, Member: true,
		Action: urls.Path(urls.WritePrivatePath, r.group.Slug, strconv.FormatInt(to.user.ID, 10))}
	h.Shell.HTML(c, status, "contact_owners", page.Data{Title: "Write privately to " + to.user.Name, Form: form, Errors: errs, Page: p})
}

// privateLinks sets, beside each message of an ordinary thread, the path
// of "Write privately" to its author: for a signed-in member of the
// group, to any other member of it who takes private messages.
func (h *handler) privateLinks(c *gin.Context, p *threadPage, r reader, authors map[int64]int64) error {
	if p.Private || r.user == nil || !r.membership.Active() || len(authors) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(authors))
	for _, a := range authors {
		if a != r.user.ID {
			ids = append(ids, a)
		}
	}
	ok, err := h.Store.PrivateAddressees(c.Request.Context(), r.group.ID, ids)
	if err != nil {
		return err
	}
	for i := range p.Messages {
		if a := authors[p.Messages[i].ID]; ok[a] && a != r.user.ID {
			p.Messages[i].WritePrivately = urls.Path(urls.WritePrivatePath, r.group.Slug, strconv.FormatInt(a, 10))
		}
	}
	return nil
}
