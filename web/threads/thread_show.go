package threads

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// messageView is one message as the thread page shows it.
type messageView struct {
	ID        int64
	Author    author
	CreatedAt time.Time
	Body      string
	Status    string // for the author and moderators: why others do not see it
	CanFlag   bool
	// WritePrivately is the path of "Write privately" to the author, or
	// "" (write_private.go).
	WritePrivately string
	// Files that came attached to the message by email (stored as the
	// group's resources); linked for those who may open them.
	Attachments []attachment
}

// attachment is a file of a message, as the thread page lists it.
type attachment struct {
	ID   int64
	Name string
	Kind string
}

// replyBox says what the page offers below the messages.
type replyBox struct {
	Allowed bool   // the reply form
	Held    bool   // the reply will wait for a moderator
	SignIn  bool   // a visitor: sign in to reply
	Join    bool   // a reader who is not a member: join to reply
	Reason  string // why else they cannot
}

type threadPage struct {
	Group        mailflow.Group
	Thread       store.WebThread
	Path         string // the thread's path, for permalinks
	Messages     []messageView
	Private      bool
	TZ           string
	Reply        replyBox
	CanDownload  bool
	CanOpenFiles bool        // attachments link to their resources (mailflow.CanAccessResources)
	ReplyAction  string      // the reply form's action, with the CSRF token (formAction)
	Files        *fileLimits // nil: the reply form takes no files
	// InInbox: the thread is in the reader's inbox (they are an active
	// member of its group), so the page offers to archive it there.
	InInbox bool
	// Mail: the member's conversation email controls (issue 19); nil
	// for readers who are not members.
	Mail *threadMail
}

// showThread: GET /g/:slug/t/:id.
func (h *handler) showThread(c *gin.Context) {
	r, t, ok := h.loadThread(c)
	if !ok {
		return
	}
	p, ok := h.threadPage(c, r, t, nil, nil)
	if !ok {
		return
	}
	// Opening a thread reads it: the inbox of its members and of a
	// private thread's people stops counting it as unread. It is recorded
	// before the page is rendered, so that the page's own badge no longer
	// counts it, and on a context cut loose from the request's, so that a
	// client closing the connection as soon as it has the page does not
	// cancel the write.
	if r.user != nil && (r.membership.Active() || t.PrivateMemberID != nil) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), markReadTimeout)
		err := h.Store.MarkThreadRead(ctx, r.user.ID, t.ID)
		cancel()
		if err != nil {
			h.Log.Warn("marking thread read", "thread_id", t.ID, "user_id", r.user.ID, "err", err)
		}
	}
	h.Shell.HTML(c, http.StatusOK, "thread", page.Data{Title: t.Subject, Page: p})
}

// markReadTimeout bounds the read mark's write, which no longer ends
// with the request.
const markReadTimeout = 10 * time.Second

// renderThread renders the thread page (with the reply form's input and
// errors after a failed reply) and reports whether it did. A thread in
// which the reader sees no message does not exist for them.
func (h *handler) renderThread(c *gin.Context, r reader, t store.WebThread, status int, form, errs map[string]string) bool {
	p, ok := h.threadPage(c, r, t, form, errs)
	if ok {
		h.Shell.HTML(c, status, "thread", page.Data{Title: t.Subject, Form: form, Errors: errs, Page: p})
	}
	return ok
}

// threadPage reads what the thread page shows; when the reader sees no
// message it has rendered the 404 page (or the error) and reports false.
func (h *handler) threadPage(c *gin.Context, r reader, t store.WebThread, form, errs map[string]string) (threadPage, bool) {
	msgs, err := h.Store.VisibleThreadMessages(c.Request.Context(), t.ID, r.viewer())
	if err != nil {
		h.Shell.Fail(c, err)
		return threadPage{}, false
	}
	p := threadPage{Group: r.group, Thread: t, Path: threadPath(r.group.Slug, t.ID), Private: t.PrivateMemberID != nil, TZ: r.tz(),
		Reply: r.replyBox(&t), CanDownload: mailflow.CanDownloadRaw(r.user, r.membership) == nil,
		InInbox: r.user != nil && r.membership.Active()}
	if r.user != nil {
		p.ReplyAction, p.Files = h.formAction(c, threadPath(r.group.Slug, t.ID)+"/reply"), h.fileLimits()
	}
	if r.user != nil && form["body"] != "" && len(errs) > 0 {
		// A reply that was refused (the member left or was removed since
		// the page was open) comes back in its box with the reason, so
		// that its text is not lost.
		p.Reply.Allowed = true
	}
	moderator := r.moderator()
	authors := map[int64]int64{} // message id → author id, for privateLinks
	for _, m := range msgs {
		if !r.canSee(m) {
			continue
		}
		if m.AuthorID != nil {
			authors[m.ID] = *m.AuthorID
		}
		p.Messages = append(p.Messages, messageView{
			ID:        m.ID,
			Author:    authorOf(m.AuthorID, m.AuthorName, m.AuthorPicture, m.FromEmail, m.FromHead, moderator, r.user != nil),
			CreatedAt: m.CreatedAt,
			Body:      m.Body,
			Status:    statusLabel(m),
			CanFlag:   r.user != nil && mailflow.CanFlag(r.user, m.Message) == nil && !m.State.OpenFlag,
		})
	}
	if len(p.Messages) == 0 {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return p, false
	}
	if err := h.attachments(c, &p, r); err != nil {
		h.Shell.Fail(c, err)
		return p, false
	}
	if err := h.privateLinks(c, &p, r, authors); err != nil {
		h.Shell.Fail(c, err)
		return p, false
	}
	if p.Mail, err = h.threadMailControls(c, r, t.ID); err != nil {
		h.Shell.Fail(c, err)
		return p, false
	}
	return p, true
}

// statusLabel says why a message the viewer sees is hidden from others.
func statusLabel(m store.ListedMessage) string {
	switch {
	case m.Status == mailflow.MessageHeld:
		return "Awaiting moderation"
	case m.Status == mailflow.MessageRejected:
		return "Rejected by a moderator"
	case m.Status == mailflow.MessageRemoved:
		return "Removed by a moderator"
	case m.State.AuthorBanned:
		return "Hidden: the author is banned from this group"
	case m.State.OpenFlag:
		return "Flagged: hidden from members until a moderator reviews it"
	}
	return ""
}

// replyBox decides what the page offers the reader to reply with.
func (r reader) replyBox(t *store.WebThread) replyBox {
	if r.user == nil {
		return replyBox{SignIn: true}
	}
	st, err := r.postDecision(t)
	var fe *mailflow.FieldError
	switch {
	case err == nil:
		return replyBox{Allowed: true, Held: st == mailflow.MessageHeld}
	case errors.Is(err, mailflow.ErrNotMember):
		return replyBox{Join: true}
	case errors.Is(err, mailflow.ErrForbidden) && errors.As(err, &fe):
		return replyBox{Reason: mailflow.UpperFirst(fe.Msg)}
	}
	return replyBox{}
}

// attachments adds to the shown messages the files they came with.
func (h *handler) attachments(c *gin.Context, p *threadPage, r reader) error {
	ids := make([]int64, len(p.Messages))
	for i, m := range p.Messages {
		ids[i] = m.ID
	}
	files, err := h.Store.MessageAttachments(c.Request.Context(), ids)
	if err != nil {
		return err
	}
	p.CanOpenFiles = mailflow.CanAccessResources(r.user, r.membership) == nil
	for i, m := range p.Messages {
		for _, f := range files[m.ID] {
			p.Messages[i].Attachments = append(p.Messages[i].Attachments, attachment{ID: f.ID, Name: f.Filename, Kind: string(f.Kind)})
		}
	}
	return nil
}
