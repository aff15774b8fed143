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

// Writing to a group's owners: to all of them at /g/SLUG/contact-owners,
// or to one of them (Connect's envelope beside an owner's name, and "Send
// a message" on their profile) at /g/SLUG/contact-owners/USER. Either
// starts a private thread that only the writer and those owners read.

type contactPage struct {
	Group  mailflow.Group
	Owner  *mailflow.User // nil: every owner
	Action string         // the path the form posts to
	Member bool           // Owner is any member written to privately (write_private.go)
}

// addressee is the one owner written to: their account and their
// membership of the group (nil when they have none), which the policy
// judges; a path with no owner in it writes to every owner.
type addressee struct {
	user       mailflow.User
	membership *mailflow.Membership
}

// contactOwnersForm: GET /g/:slug/contact-owners[/:user].
func (h *handler) contactOwnersForm(c *gin.Context) {
	r, ok := h.loadGroup(c)
	if !ok {
		return
	}
	to, ok := h.loadAddressee(c, r)
	if !ok {
		return
	}
	if err := canContact(r, to); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.renderContact(c, r, to, http.StatusOK, nil, nil)
}

// contactOwners: POST /g/:slug/contact-owners[/:user] starts a private
// thread between the member and the group's owners, or the one owner
// named: only they read it, and only they are mailed it; replies stay in
// it. A message that fails is shown again in the form, with the reason
// beside it.
func (h *handler) contactOwners(c *gin.Context) {
	r, ok := h.loadGroup(c)
	if !ok {
		return
	}
	to, ok := h.loadAddressee(c, r)
	if !ok {
		return
	}
	sub := posting.Submission{Author: r.user, GroupID: r.group.ID, PrivateMemberID: r.user.ID, Source: mailflow.SourceWeb}
	done := "Your message was sent to the group's owners."
	if to != nil {
		sub.PrivateOwnerID = to.user.ID
		done = "Your message was sent to " + to.user.Name + "."
	}
	h.sendPrivately(c, canContact(r, to), sub, done, func(status int, form, errs map[string]string) {
		h.renderContact(c, r, to, status, form, errs)
	})
}

// sendPrivately reads the form of a private thread and, when allowed is
// nil, starts it with sub: a 303 to it saying done, or (a refusal, a
// field left empty) the form again with its text and the reason.
func (h *handler) sendPrivately(c *gin.Context, allowed error, sub posting.Submission, done string, again func(status int, form, errs map[string]string)) {
	f := readThreadForm(c)
	err := allowed
	if err == nil {
		if errs := f.validate(); len(errs) > 0 {
			again(http.StatusUnprocessableEntity, f.values(), errs)
			return
		}
		sub.Subject, sub.Body = f.Subject, f.Body
		var acc posting.Accepted
		if acc, err = h.Posting.Accept(c.Request.Context(), sub); err == nil {
			h.posted(c, acc, done)
			return
		}
	}
	errs, status, ok := h.keptText(c, err)
	if !ok {
		h.postFail(c, err)
		return
	}
	again(status, f.values(), errs)
}

// loadAddressee reads the owner named in the path, if any; a malformed
// or unknown one is not found.
func (h *handler) loadAddressee(c *gin.Context, r reader) (*addressee, bool) {
	raw := c.Param("user")
	if raw == "" {
		return nil, true
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		h.Shell.Fail(c, mailflow.ErrNotFound)
		return nil, false
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByID(ctx, id)
	var m *mailflow.Membership
	if err == nil {
		m, err = h.Store.Membership(ctx, r.group.ID, id)
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return nil, false
	}
	return &addressee{user: u, membership: m}, true
}

// canContact is the policy of writing to the owners, or to one of them.
func canContact(r reader, to *addressee) error {
	if to == nil {
		return mailflow.CanWriteToOwners(r.user, r.group, r.membership)
	}
	return mailflow.CanWriteToOwner(r.user, r.group, r.membership, to.membership)
}

func (h *handler) renderContact(c *gin.Context, r reader, to *addressee, status int, form, errs map[string]string) {
	p := contactPage{Group: r.group, Action: urls.Path(urls.ContactOwnersPath, r.group.Slug)}
	title := "Write to the owners of " + r.group.Name
	if to != nil {
		p.Owner = &to.user
		p.Action = urls.Path(urls.ContactOwnerPath, r.group.Slug, strconv.FormatInt(to.user.ID, 10))
		title = "Send a message to " + to.user.Name
	}
	h.Shell.HTML(c, status, "contact_owners", page.Data{Title: title, Form: form, Errors: errs, Page: p})
}
