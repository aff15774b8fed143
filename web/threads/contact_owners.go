package threads

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/web/page"
)

type contactPage struct{ Group mailflow.Group }

// contactOwnersForm: GET /g/:slug/contact-owners.
func (h *handler) contactOwnersForm(c *gin.Context) {
	r, ok := h.loadWriter(c)
	if !ok {
		return
	}
	h.renderContact(c, r, http.StatusOK, nil, nil)
}

// contactOwners: POST /g/:slug/contact-owners starts a private thread
// between the member and the group's owners: only they read it, and only
// they are mailed it; replies stay in it. A message that fails is shown
// again in the form, with the reason beside it.
func (h *handler) contactOwners(c *gin.Context) {
	r, ok := h.loadGroup(c)
	if !ok {
		return
	}
	f := readThreadForm(c)
	err := mailflow.CanWriteToOwners(r.user, r.group, r.membership)
	if err == nil {
		if errs := f.validate(); len(errs) > 0 {
			h.renderContact(c, r, http.StatusUnprocessableEntity, f.values(), errs)
			return
		}
		var acc posting.Accepted
		acc, err = h.Posting.Accept(c.Request.Context(), posting.Submission{
			Author: r.user, GroupID: r.group.ID, PrivateMemberID: r.user.ID,
			Subject: f.Subject, Body: f.Body, Source: mailflow.SourceWeb,
		})
		if err == nil {
			h.posted(c, acc, "Your message was sent to the group's owners.")
			return
		}
	}
	errs, status, ok := h.keptText(c, err)
	if !ok {
		h.postFail(c, err)
		return
	}
	h.renderContact(c, r, status, f.values(), errs)
}

// loadWriter reads the group and checks that the member may write to
// its owners.
func (h *handler) loadWriter(c *gin.Context) (reader, bool) {
	r, ok := h.loadGroup(c)
	if !ok {
		return r, false
	}
	if err := mailflow.CanWriteToOwners(r.user, r.group, r.membership); err != nil {
		h.Shell.Fail(c, err)
		return r, false
	}
	return r, true
}

func (h *handler) renderContact(c *gin.Context, r reader, status int, form, errs map[string]string) {
	h.Shell.HTML(c, status, "contact_owners", page.Data{Title: "Write to the owners of " + r.group.Name, Form: form, Errors: errs,
		Page: contactPage{Group: r.group}})
}
