// Package maillinks serves the pages behind the signed links in every
// email: one-click unsubscribe (RFC 8058) from a group or from all mail,
// undo, and the per-group email setting; and, in development, the file
// outbox. The signed token is the only credential: no login is needed.
//
// GET never changes anything (link scanners and previews fetch links);
// it shows a page with one button that POSTs. A POST to an unsubscribe
// URL, from that button or from a mail provider's one-click request with
// the body List-Unsubscribe=One-Click, acts at once.
package maillinks

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/templates"
	"github.com/parleymail/parley/web/input"
	"github.com/parleymail/parley/web/render"
)

// undoFor is how long an unsubscribe can be undone from its page.
const undoFor = 14 * 24 * time.Hour

// Deps are what the pages need.
type Deps struct {
	Store        *store.Store
	Keys         sign.Keys
	Origin       *url.URL
	BrandTitle   string
	Organization string
	Stylesheet   string           // URL of the stylesheet
	OutboxDir    string           // "" turns the development outbox off
	Posting      *posting.Service // decisions from moderation notices
	Log          *slog.Logger
	Now          func() time.Time // the clock pauses are judged by (issue 19); nil: time.Now
}

type handler struct {
	Deps
	pages *render.Pages
}

// Register adds the routes to r.
func Register(r gin.IRouter, d Deps) error {
	pages, err := render.New(templates.FS, []string{"web/mail_layout.html"}, []string{
		"web/unsubscribe_confirm.html", "web/unsubscribe_done.html", "web/link_invalid.html",
		"web/email_settings.html", "web/dev_outbox.html", "web/dev_outbox_message.html", "web/join_confirm.html",
		"web/moderate_confirm.html", "web/link_refused.html",
		"web/pause.html",       // issue 19
		"web/thread_mail.html", // mute or follow a conversation (issue 19)
	}, nil, d.Log)
	if err != nil {
		return err
	}
	h := &handler{Deps: d, pages: pages}
	r = r.Group("", h.checkInput)
	r.GET(urls.ModeratePath, h.moderateForm)
	r.POST(urls.ModeratePath, h.moderate)
	r.GET(urls.UnsubscribePath, h.unsubscribeForm)
	r.POST(urls.UnsubscribePath, h.unsubscribe)
	r.GET(urls.UndoPath, h.undoForm)
	r.POST(urls.UndoPath, h.undo)
	r.GET(urls.ReenablePath, h.reenableForm)
	r.POST(urls.ReenablePath, h.reenable)
	r.GET(urls.JoinPath, h.joinForm)
	r.POST(urls.JoinPath, h.join)
	r.GET(urls.EmailSettingsPath, h.settingsForm)
	r.POST(urls.EmailSettingsPath, h.saveSettings)
	r.GET(urls.PausePath, h.pauseForm) // issue 19
	r.POST(urls.PausePath, h.pause)
	// Mute or follow a conversation (issue 19).
	r.GET(urls.ThreadMailPath, h.threadMailForm)
	r.POST(urls.ThreadMailPath, h.threadMail)
	if d.OutboxDir != "" {
		r.GET("/dev/outbox", h.outbox)
		r.GET("/dev/outbox/:name", h.outboxMessage)
	}
	return nil
}

// page is the data every page gets.
type page struct {
	Title, Brand, Organization, Base string
	Stylesheet                       string // the UI's stylesheet URL; pages carry no inline style (CSP)
	Wide                             bool
	Email                            string
	Group                            *mailflow.Group
	Action, UndoAction               string
	Heading, Message                 string
	UndoDays                         int
	Delivery                         mailflow.Delivery
	Saved                            bool
	Dir                              string
	More                             bool
	Files                            []outboxFile
	Subject                          string
	Headers                          []header
	Parts                            []part
}

func (h *handler) page(title string) page {
	return page{Title: title, Brand: h.BrandTitle, Organization: h.Organization, Base: h.Origin.Path, Stylesheet: h.Stylesheet}
}

// refuse answers status with a page saying why.
func (h *handler) refuse(c *gin.Context, status int, heading, msg string) {
	p := h.page(heading)
	p.Heading, p.Message = heading, msg
	h.pages.HTML(c, status, "web/link_refused.html", p)
	c.Abort()
}

// checkInput bounds and reads a posted form, and refuses a path, query
// string or form that is not text (package input) with 400.
func (h *handler) checkInput(c *gin.Context) {
	if c.Request.Method == http.MethodPost {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
		if err := c.Request.ParseForm(); err != nil {
			h.refuse(c, http.StatusBadRequest, "That request did not make sense", "The form could not be read. Go back and try again.")
			return
		}
	}
	if p := input.Check(c.Request); p != nil {
		h.refuse(c, http.StatusBadRequest, "That request did not make sense", mailflow.UpperFirst(p.Error())+
			". Parley takes only text there; nothing was changed.")
		return
	}
	c.Next()
}

// maxFormBytes bounds the forms of these pages (a veto's reason is the
// longest thing in them).
const maxFormBytes = 1 << 20

func (h *handler) invalid(c *gin.Context) {
	h.pages.HTML(c, http.StatusBadRequest, "web/link_invalid.html", h.page("Invalid link"))
}

func (h *handler) serverError(c *gin.Context, err error) {
	h.Log.Error("email link", "path", c.FullPath(), "err", err)
	c.String(http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment.")
}

// resolve verifies the token in the path for purpose and loads its user
// and group (nil for "all groups"). It answers 400 itself when it fails.
func (h *handler) resolve(c *gin.Context, purpose sign.Purpose) (sign.Link, mailflow.User, *mailflow.Group, bool) {
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	if err != nil || l.Purpose != purpose {
		h.invalid(c)
		return l, mailflow.User{}, nil, false
	}
	ctx := c.Request.Context()
	u, err := h.Store.UserByID(ctx, l.UserID)
	if errors.Is(err, mailflow.ErrNotFound) {
		h.invalid(c) // the account is gone: nothing to do
		return l, u, nil, false
	}
	if err != nil {
		h.serverError(c, err)
		return l, u, nil, false
	}
	if l.GroupID == 0 {
		return l, u, nil, true
	}
	g, err := h.Store.GroupByID(ctx, l.GroupID)
	if errors.Is(err, mailflow.ErrNotFound) {
		h.invalid(c)
		return l, u, nil, false
	}
	if err != nil {
		h.serverError(c, err)
		return l, u, nil, false
	}
	return l, u, &g, true
}

// url is the path (under ORIGIN's prefix) of a signed page: pattern
// from package urls, filled with token.
func (h *handler) url(pattern, token string) string {
	return strings.TrimRight(h.Origin.Path, "/") + urls.Path(pattern, token)
}

func (h *handler) unsubscribeForm(c *gin.Context) {
	_, u, g, ok := h.resolve(c, sign.PurposeUnsubscribe)
	if !ok {
		return
	}
	p := h.page("Unsubscribe")
	p.Email, p.Group, p.Action = u.Email, g, h.url(urls.UnsubscribePath, c.Param("token"))
	if g == nil && c.Param("token") != "" {
		if l, err := h.Keys.Verify(c.Param("token"), time.Now()); err == nil && l.Value == "digest" {
			p.Heading = "Stop your digests?"
		}
	}
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_confirm.html", p)
}

// unsubscribe acts on a POST: from the confirmation button, or an RFC 8058
// one-click request (body List-Unsubscribe=One-Click) from a mail provider.
func (h *handler) unsubscribe(c *gin.Context) {
	l, u, g, ok := h.resolve(c, sign.PurposeUnsubscribe)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p := h.page("Unsubscribed")
	p.UndoDays = int(undoFor / (24 * time.Hour))
	undo := sign.Link{Purpose: sign.PurposeUndo, UserID: u.ID, GroupID: l.GroupID, Expires: time.Now().Add(undoFor)}
	if g == nil && l.Value == "digest" {
		// The digest's own List-Unsubscribe: stop digests, not all mail.
		n, err := h.Store.StopDigests(ctx, u.ID)
		if err != nil {
			h.serverError(c, err)
			return
		}
		p.Heading = "No more digests"
		p.Message = fmt.Sprintf("%s will get no more digests (%d groups changed to no email). You are still a member of your groups.", u.Email, n)
		h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
		return
	}
	if g == nil {
		if err := h.Store.Suppress(ctx, u.Email, "unsubscribed", "link", ""); err != nil {
			h.serverError(c, err)
			return
		}
		h.Log.Info("unsubscribed from all email", "user_id", u.ID)
		p.Heading = "You will get no more email from " + h.BrandTitle
		p.Message = u.Email + " is unsubscribed from all email."
	} else {
		prev, err := h.Store.SetDelivery(ctx, g.ID, u.ID, mailflow.DeliveryNone)
		if errors.Is(err, mailflow.ErrNotFound) {
			p.Heading = "You are not a member of " + g.Name
			p.Message = "There is nothing to unsubscribe from."
			h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
			return
		}
		if err != nil {
			h.serverError(c, err)
			return
		}
		h.Log.Info("unsubscribed from group", "user_id", u.ID, "group", g.Slug)
		undo.Value = string(prev)
		p.Heading = "You are unsubscribed from " + g.Name
		p.Message = u.Email + " will get no more email from this group. You are still a member and can read it on the web."
	}
	p.UndoAction = h.url(urls.UndoPath, h.Keys.Token(undo))
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
}

func (h *handler) undoForm(c *gin.Context) {
	_, u, g, ok := h.resolve(c, sign.PurposeUndo)
	if !ok {
		return
	}
	p := h.page("Undo unsubscribe")
	p.Heading = "Undo your unsubscribe?"
	p.Message = "Email to " + u.Email + " will start again."
	if g != nil {
		p.Message = "Email from " + g.Name + " to " + u.Email + " will start again."
	}
	p.UndoAction = h.url(urls.UndoPath, c.Param("token"))
	p.UndoDays = int(undoFor / (24 * time.Hour))
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
}

func (h *handler) undo(c *gin.Context) {
	l, u, g, ok := h.resolve(c, sign.PurposeUndo)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	p := h.page("Welcome back")
	p.Heading = "Welcome back"
	if g == nil {
		// Undo only what this link did: an address suppressed for hard
		// bounces or complaints stays suppressed.
		reason, err := h.Store.Suppression(ctx, u.Email)
		if err == nil && reason == "unsubscribed" {
			_, err = h.Store.Unsuppress(ctx, u.Email)
		}
		if err != nil {
			h.serverError(c, err)
			return
		}
		p.Message = u.Email + " will receive email from " + h.BrandTitle + " again."
	} else {
		d := mailflow.Delivery(l.Value)
		if !d.Valid() || d == mailflow.DeliveryNone {
			d = mailflow.DeliveryImmediate
		}
		if _, err := h.Store.SetDelivery(ctx, g.ID, u.ID, d); err != nil && !errors.Is(err, mailflow.ErrNotFound) {
			h.serverError(c, err)
			return
		}
		p.Message = u.Email + " will receive email from " + g.Name + " again."
	}
	h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
}

func (h *handler) settingsForm(c *gin.Context) {
	h.settings(c, false)
}

func (h *handler) saveSettings(c *gin.Context) {
	h.settings(c, true)
}

func (h *handler) settings(c *gin.Context, save bool) {
	_, u, g, ok := h.resolve(c, sign.PurposeSettings)
	if !ok {
		return
	}
	if g == nil {
		h.invalid(c)
		return
	}
	ctx := c.Request.Context()
	m, err := h.Store.Membership(ctx, g.ID, u.ID)
	if err != nil {
		h.serverError(c, err)
		return
	}
	p := h.page("Email settings")
	p.Email, p.Group, p.Action = u.Email, g, h.url(urls.EmailSettingsPath, c.Param("token"))
	if m == nil || m.Status != mailflow.MemberActive {
		p.Heading = "You are not a member of " + g.Name
		p.Message = "There are no email settings to change."
		h.pages.HTML(c, http.StatusOK, "web/unsubscribe_done.html", p)
		return
	}
	p.Delivery = m.Delivery
	if save {
		d := mailflow.Delivery(c.PostForm("delivery"))
		if !d.Valid() {
			h.pages.HTML(c, http.StatusUnprocessableEntity, "web/email_settings.html", p)
			return
		}
		if _, err := h.Store.SetDelivery(ctx, g.ID, u.ID, d); err != nil {
			h.serverError(c, err)
			return
		}
		p.Delivery, p.Saved = d, true
	}
	h.pages.HTML(c, http.StatusOK, "web/email_settings.html", p)
}
