package threads

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
)

// threadForm is a new thread's subject and body.
type threadForm struct {
	Group   string // the group's slug, on /compose
	Subject string
	Body    string
}

// readThreadForm reads a form with no files (writing to the owners).
func readThreadForm(c *gin.Context) threadForm {
	return threadForm{Group: c.PostForm("group"), Subject: c.PostForm("subject"), Body: c.PostForm("body")}
}

// readThreadPost reads a new thread's form, with its files staged (the
// caller removes what is left: removeStaged).
func (h *handler) readThreadPost(c *gin.Context) (threadForm, postForm, bool) {
	pf, ok := h.readPostForm(c, "group", "subject", "body")
	v := pf.values
	return threadForm{Group: v["group"], Subject: v["subject"], Body: v["body"]}, pf, ok
}

// validate finds what is missing, so every field's problem shows at once;
// the posting service checks the rest (lengths, encoding).
func (f threadForm) validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(f.Subject) == "" {
		errs["subject"] = "Write a subject"
	}
	if strings.TrimSpace(f.Body) == "" {
		errs["body"] = "Write a message"
	}
	return errs
}

func (f threadForm) values() map[string]string {
	return map[string]string{"group": f.Group, "subject": f.Subject, "body": f.Body}
}

// reply: POST /g/:slug/t/:id/reply. A reply that fails is shown again
// in the form, with the reason beside it.
func (h *handler) reply(c *gin.Context) {
	r, t, ok := h.loadThread(c)
	if !ok {
		return
	}
	pf, ok := h.readPostForm(c, "body")
	if !ok {
		return
	}
	defer h.removeStaged(&pf)
	body := pf.values["body"]
	form := map[string]string{"body": body}
	if _, err := r.postDecision(&t); err != nil {
		h.replyFailed(c, r, t, form, err)
		return
	}
	errs := map[string]string{}
	if strings.TrimSpace(body) == "" {
		errs["body"] = "Write a message"
	}
	if status := fileErrors(&pf, errs); len(errs) > 0 {
		h.renderThread(c, r, t, status, form, errs)
		return
	}
	ps, errs, err := h.prepareFiles(c, r, &pf)
	if err == nil && errs != nil {
		h.renderThread(c, r, t, http.StatusUnprocessableEntity, form, errs)
		return
	}
	var acc posting.Accepted
	if err == nil {
		acc, err = h.accept(c.Request.Context(), posting.Submission{
			Author: r.user, ThreadID: t.ID, Body: body, Source: mailflow.SourceWeb,
		}, ps)
	}
	if err != nil {
		h.replyFailed(c, r, t, form, err)
		return
	}
	h.posted(c, acc, "")
}

func (h *handler) replyFailed(c *gin.Context, r reader, t store.WebThread, form map[string]string, err error) {
	errs, status, ok := h.keptText(c, err)
	if !ok {
		h.postFail(c, err)
		return
	}
	h.renderThread(c, r, t, status, form, errs)
}

// createThread: POST /g/:slug/threads, the compose box of a group's page.
// It checks that the member may post before it validates the input, so
// that a private group's existence shows in no error message (loadGroup
// and postFail answer 404); a member the group can see who may not post
// gets the compose page again, with their text and the reason.
func (h *handler) createThread(c *gin.Context) {
	r, ok := h.loadGroup(c)
	if !ok {
		return
	}
	f, pf, ok := h.readThreadPost(c)
	if !ok {
		return
	}
	defer h.removeStaged(&pf)
	f.Group = r.group.Slug
	if _, err := r.postDecision(nil); err != nil {
		h.threadFailed(c, f, err)
		return
	}
	h.startThread(c, r, f, &pf)
}

// startThread posts a new thread in r's group, with the form's files, or
// renders the compose page again with the input and what is wrong.
func (h *handler) startThread(c *gin.Context, r reader, f threadForm, pf *postForm) {
	errs := f.validate()
	if status := fileErrors(pf, errs); len(errs) > 0 {
		h.renderCompose(c, status, f, errs)
		return
	}
	ps, errs, err := h.prepareFiles(c, r, pf)
	if err == nil && errs != nil {
		h.renderCompose(c, http.StatusUnprocessableEntity, f, errs)
		return
	}
	var acc posting.Accepted
	if err == nil {
		acc, err = h.accept(c.Request.Context(), posting.Submission{
			Author: r.user, GroupID: r.group.ID, Subject: f.Subject, Body: f.Body, Source: mailflow.SourceWeb,
		}, ps)
	}
	if err != nil {
		h.threadFailed(c, f, err)
		return
	}
	h.posted(c, acc, "")
}

func (h *handler) threadFailed(c *gin.Context, f threadForm, err error) {
	errs, status, ok := h.keptText(c, err)
	if !ok {
		h.postFail(c, err)
		return
	}
	h.renderCompose(c, status, f, errs)
}
