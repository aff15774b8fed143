// Package threads holds the pages of conversations: a thread and its
// messages, starting a thread and replying (through the one
// accept-a-message path, so web posts are mailed like any other), writing
// to a group's owners, flagging, the group archive with its mbox
// downloads, and search.
//
// Who reads what is mailflow's policy: CanReadThread (the group's rules,
// a public archive, or a private thread's), CanSeeGroupMessage for each
// message (which the store's queries apply in SQL as well, so lists page
// and count right), PostDecision and PrivatePostDecision for posting.
// Pages of a group with a public archive are served to signed-out
// visitors too, so only the routes that change something require a
// signed-in member.
package threads

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the thread pages need.
type Deps struct {
	Shell      *page.Shell
	Store      *store.Store
	Posting    *posting.Service
	MailDomain string // a group's address is SLUG@MAIL_DOMAIN
	// Files stores the files of posts as resources; nil (or no blob
	// store) and the post forms take none.
	Files *library.Library
	Log   *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	signedIn := d.Shell.RequireUser
	rg.GET(urls.ThreadPath, h.showThread)
	streamedPOST(d.Shell, rg, "/g/:slug/t/:id/reply", signedIn, h.reply)
	rg.POST("/g/:slug/t/:id/mail", signedIn, h.setThreadMail) // mute or follow (issue 19)
	rg.GET("/g/:slug/t/:id/mbox", h.threadMbox)
	streamedPOST(d.Shell, rg, "/g/:slug/threads", signedIn, h.createThread)
	rg.GET("/compose", signedIn, h.composeForm)
	streamedPOST(d.Shell, rg, "/compose", signedIn, h.compose)
	rg.GET(urls.ContactOwnersPath, signedIn, h.contactOwnersForm)
	rg.POST(urls.ContactOwnersPath, signedIn, h.contactOwners)
	rg.GET(urls.ContactOwnerPath, signedIn, h.contactOwnersForm)
	rg.POST(urls.ContactOwnerPath, signedIn, h.contactOwners)
	rg.GET(urls.WritePrivatePath, signedIn, h.writePrivateForm)
	rg.POST(urls.WritePrivatePath, signedIn, h.writePrivate)
	rg.GET("/messages/:id/flag", signedIn, h.flagConfirm)
	rg.POST("/messages/:id/flag", signedIn, h.flag)
	rg.GET(urls.ArchivePath, h.archive)
	rg.GET("/g/:slug/archive/:month", h.archiveMonth)
	rg.GET("/g/:slug/archive/:month/mbox", h.monthMbox)
	rg.GET("/search", h.search)
}

// streamedPOST registers a post form's route, whose handler reads a
// multipart body (with files) as a stream, and tells the CSRF guard so.
func streamedPOST(sh *page.Shell, g *gin.RouterGroup, rel string, hs ...gin.HandlerFunc) {
	g.POST(rel, hs...)
	base := strings.TrimSuffix(g.BasePath(), "/")
	sh.StreamBody(base + rel)
}

// reader is who reads a group's pages: the group, the signed-in member
// (nil for a visitor) and their membership (nil when there is none).
type reader struct {
	group      mailflow.Group
	user       *mailflow.User
	membership *mailflow.Membership
}

func (r reader) moderator() bool { return mailflow.IsGroupModerator(r.user, r.membership) }

// viewer is whose eyes the store's message queries filter for.
func (r reader) viewer() store.MessageViewer {
	v := store.MessageViewer{Moderator: r.moderator()}
	if r.user != nil {
		v.ID = r.user.ID
	}
	return v
}

// tz is the zone times are shown in: the member's, or UTC for visitors.
func (r reader) tz() string {
	if r.user != nil && r.user.Timezone != "" {
		return r.user.Timezone
	}
	return "UTC"
}

// canSee applies the per-message rule to a message the store listed.
func (r reader) canSee(m store.ListedMessage) bool {
	return mailflow.CanSeeGroupMessage(r.user, m.Message, r.membership, m.State)
}

// postDecision is what would become of the reader's post in a thread (or
// a new thread, t nil): a private thread has rules of its own.
func (r reader) postDecision(t *store.WebThread) (mailflow.MessageStatus, error) {
	if t != nil && t.PrivateMemberID != nil {
		return mailflow.PrivatePostDecision(r.user, r.group, r.membership, *t.Private())
	}
	return mailflow.PostDecision(r.user, r.group, r.membership)
}

// groupAddress is the group's email address, which mbox downloads put
// in From: in place of members' own.
func (h *handler) groupAddress(g mailflow.Group) string { return g.Address(h.MailDomain) }

// loadGroup reads the group named in the path with the reader's
// membership; an unknown group is the 404 page.
func (h *handler) loadGroup(c *gin.Context) (reader, bool) {
	return h.loadGroupSlug(c, c.Param("slug"))
}

func (h *handler) loadGroupSlug(c *gin.Context, slug string) (reader, bool) {
	g, err := h.Store.GroupBySlug(c.Request.Context(), slug)
	if err != nil {
		h.Shell.Fail(c, err)
		return reader{}, false
	}
	return h.readerOf(c, g)
}

func (h *handler) readerOf(c *gin.Context, g mailflow.Group) (reader, bool) {
	r := reader{group: g, user: session.User(c)}
	if r.user != nil {
		m, err := h.Store.Membership(c.Request.Context(), g.ID, r.user.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return r, false
		}
		r.membership = m
	}
	return r, true
}

// loadThread reads the group and the thread in the path and checks that
// the reader may read it. A thread of another group is not found here.
func (h *handler) loadThread(c *gin.Context) (reader, store.WebThread, bool) {
	r, ok := h.loadGroup(c)
	if !ok {
		return r, store.WebThread{}, false
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.deny(c, r, mailflow.ErrNotFound)
		return r, store.WebThread{}, false
	}
	t, err := h.Store.ThreadWithPrivacy(c.Request.Context(), id)
	switch {
	case errors.Is(err, mailflow.ErrNotFound) || (err == nil && t.GroupID != r.group.ID):
		err = mailflow.ErrNotFound
	case err == nil:
		err = mailflow.CanReadThread(r.user, r.group, r.membership, r.group.ArchivePublic, t.Private())
	}
	if err != nil {
		h.deny(c, r, err)
		return r, t, false
	}
	return r, t, true
}

// deny answers a failed read check. A signed-out visitor of a group that
// is no secret (listed, or with a public archive) is sent to sign in,
// which may open the page, as for every members-only page; anyone else
// gets the page that fits err, a 404 that reveals nothing of private
// groups.
func (h *handler) deny(c *gin.Context, r reader, err error) {
	if r.user == nil && (r.group.Listed || r.group.ArchivePublic) && c.Request.Method == http.MethodGet {
		h.Shell.RequireUser(c)
		return
	}
	h.Shell.Fail(c, err)
}

// postFail answers a refused post: 403 "join the group first" to a
// non-member of a group they can see, 404 for one they cannot.
func (h *handler) postFail(c *gin.Context, err error) {
	if errors.Is(err, mailflow.ErrNotMember) {
		h.Shell.ErrorPage(c, http.StatusForbidden, "Join the group first: only its members can post to it.")
		return
	}
	h.Shell.Fail(c, err)
}

// keptText says why a post failed, for the form shown again with the
// member's subject and text: 422 with the reason beside the body for a
// refusal (no longer a member, not allowed, invalid), 503 for a fault of
// Parley's own (logged), so that nothing they wrote is lost. ok is false
// for ErrNotFound, which postFail answers with a 404 that reveals nothing
// of a private group.
func (h *handler) keptText(c *gin.Context, err error) (errs map[string]string, status int, ok bool) {
	if errs, ok := page.FieldErrors(err); ok {
		return errs, http.StatusUnprocessableEntity, true
	}
	const kept = " Your text is still here."
	var fe *mailflow.FieldError
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		return nil, 0, false
	case errors.Is(err, mailflow.ErrNotMember):
		return map[string]string{"body": "Join the group first: only its members can post to it." + kept}, http.StatusUnprocessableEntity, true
	case errors.Is(err, mailflow.ErrForbidden), errors.Is(err, mailflow.ErrInvalid), errors.Is(err, mailflow.ErrConflict),
		errors.Is(err, mailflow.ErrDuplicate):
		msg := "This could not be posted."
		if errors.As(err, &fe) && fe.Msg != "" {
			msg = mailflow.UpperFirst(strings.TrimSuffix(fe.Msg, ".")) + "."
		}
		return map[string]string{"body": msg + kept}, http.StatusUnprocessableEntity, true
	}
	h.Log.Error("posting from the web", "path", c.Request.URL.Path, "err", err)
	return map[string]string{"body": "Parley could not post this just now." + kept + " Try again in a moment."}, http.StatusServiceUnavailable, true
}

// posted sends the author to their message after a successful post.
func (h *handler) posted(c *gin.Context, acc posting.Accepted, okFlash string) {
	switch {
	case acc.Message.Status == mailflow.MessageHeld:
		h.Shell.Flash(c, "Your message is awaiting moderation.")
	case okFlash != "":
		h.Shell.Flash(c, okFlash)
	}
	h.Shell.Redirect(c, threadPath(acc.Group.Slug, acc.Thread.ID)+"#m"+strconv.FormatInt(acc.Message.ID, 10))
}

func threadPath(slug string, id int64) string {
	return "/g/" + slug + "/t/" + strconv.FormatInt(id, 10)
}
