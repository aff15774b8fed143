// Package page is the web UI's shell: the layout every page shares (the
// navigation bar, flash messages, the CSRF token), the friendly error
// pages, and the guards page handlers put in front of themselves (signed
// in, terms accepted, CSRF checked, security headers, allowed hosts).
// Handlers in other packages render through it, so every page looks and
// behaves alike.
package page

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/templates"
	"github.com/parleymail/parley/web/render"
	"github.com/parleymail/parley/web/session"
	"github.com/parleymail/parley/web/static"
)

// Shell renders pages.
type Shell struct {
	pages        *render.Pages
	markdown     *markup.Cache // members' Markdown, rendered once per text
	Sessions     *session.Manager
	Assets       *static.Assets
	Origin       *url.URL
	Base         string // ORIGIN's path without the trailing slash: "" or "/lists"
	Brand        string
	Organization string
	Log          *slog.Logger
	// Unread counts a member's unread messages for the badge; nil shows none.
	Unread func(ctx context.Context, userID int64) (int, error)
	// Nav lists the main navigation's items; later parts of the UI
	// (Explore, Messages, Resources) add theirs as they are mounted, so
	// the bar never links to a page that does not exist.
	Nav []NavItem
	// streamed are the POST routes whose handlers read their own
	// multipart bodies (StreamBody); set while routes are registered.
	streamed map[string]bool
}

// NavItem is one link of the navigation bar.
type NavItem struct{ Key, Label, Path string }

// DeliveryChoice is one email setting in a menu.
type DeliveryChoice struct{ Value, Label string }

// DeliveryChoices lists the email settings a member picks from, in order.
func DeliveryChoices() []DeliveryChoice {
	var out []DeliveryChoice
	for _, d := range []mailflow.Delivery{mailflow.DeliveryImmediate, mailflow.DeliveryDigest, mailflow.DeliveryWeekly, mailflow.DeliveryNone} {
		out = append(out, DeliveryChoice{string(d), DeliveryLabel(d)})
	}
	return out
}

// DeliveryLabel names a delivery mode for people.
func DeliveryLabel(d mailflow.Delivery) string {
	switch d {
	case mailflow.DeliveryImmediate:
		return "Every message, as it is posted"
	case mailflow.DeliveryDigest:
		return "A daily digest in my morning"
	case mailflow.DeliveryWeekly:
		return "A weekly digest"
	case mailflow.DeliveryNone:
		return "No email (read on the web)"
	}
	return string(d)
}

// Pages lists every page template under templates/web/pages.
func pageFiles() ([]string, error) {
	entries, err := templates.FS.ReadDir("web/pages")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".html") {
			out = append(out, "web/pages/"+e.Name())
		}
	}
	return out, nil
}

// markdownCacheSize bounds the rendered texts the pages remember.
const markdownCacheSize = 20000

// New parses the layout, partials and every page.
func New(s Shell) (*Shell, error) {
	files, err := pageFiles()
	if err != nil {
		return nil, err
	}
	sh := &s
	sh.Base = strings.TrimRight(s.Origin.Path, "/")
	sh.markdown = markup.NewCache(markdownCacheSize)
	p, err := render.New(templates.FS, []string{"web/layout.html", "web/partials.html"}, files, sh.Funcs(), s.Log)
	if err != nil {
		return nil, err
	}
	sh.pages = p
	return sh, nil
}

// Funcs are the template functions every page may use.
func (s *Shell) Funcs() template.FuncMap {
	return template.FuncMap{
		"url":   s.URL,
		"asset": s.Assets.URL,
		"date": func(t time.Time, tz string) string {
			return t.In(zone(tz)).Format("2 Jan 2006")
		},
		"has":     func(u *mailflow.User, p string) bool { return u != nil && u.Has(mailflow.Permission(p)) },
		"isAdmin": IsAdmin,
		"initial": func(name string) string {
			for _, r := range strings.TrimSpace(name) {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"deliveryLabel": DeliveryLabel,
		"markdown":      s.markdown.HTML,
		"preview":       s.markdown.Plain,
		"datetime": func(t time.Time, tz string) string {
			return t.In(zone(tz)).Format("2 Jan 2006, 15:04")
		},
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"deref": func(p *int64) int64 { return *p },
		"list":  func(v ...any) []any { return v },
	}
}

// adminPermissions are the permissions an Admin tab needs (the
// "admin-tabs" partial): whoever holds one of them gets the Admin menu.
var adminPermissions = []mailflow.Permission{mailflow.PermManageUsers, mailflow.PermViewReports,
	mailflow.PermManageCategories, mailflow.PermModerateGroups}

// IsAdmin reports whether u holds a permission behind an Admin tab.
func IsAdmin(u *mailflow.User) bool {
	for _, p := range adminPermissions {
		if u != nil && u.Has(p) {
			return true
		}
	}
	return false
}

// URL returns path under the path prefix.
func (s *Shell) URL(path string) string { return s.Base + path }

// Absolute returns the absolute URL of path.
func (s *Shell) Absolute(path string) string {
	u := *s.Origin
	u.Path = s.Base + path
	return u.String()
}

// Data is what every page template receives.
type Data struct {
	Title        string
	Brand        string
	Organization string
	Nav          string // the active navigation item
	User         *mailflow.User
	Impersonator *mailflow.User
	CSRF         string
	Flash        *session.Flash
	Unread       int
	Errors       map[string]string // field → message, shown beside the field
	Form         map[string]string // the input to fill the form with again
	Page         any               // what the page itself shows
	Status       int
	NavItems     []NavItem
}

// HTML renders a page with the shell's common data filled in.
func (s *Shell) HTML(c *gin.Context, status int, name string, d Data) {
	d.Brand, d.Organization, d.NavItems = s.Brand, s.Organization, s.Nav
	d.CSRF = s.Sessions.CSRFToken(c)
	d.Flash = session.TakeFlash(c)
	d.Status = status
	if cur := session.Get(c); cur != nil {
		d.User, d.Impersonator = &cur.User, cur.Impersonator
		if s.Unread != nil {
			if n, err := s.Unread(c.Request.Context(), cur.User.ID); err == nil {
				d.Unread = n
			}
		}
	}
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	s.pages.HTML(c, status, "web/pages/"+name+".html", d)
}

// Redirect sends the browser to path (under the prefix) with 303, so a
// form post is followed by a GET.
func (s *Shell) Redirect(c *gin.Context, path string) {
	c.Redirect(http.StatusSeeOther, s.URL(path))
	c.Abort()
}

// Flash sets the message the next page shows.
func (s *Shell) Flash(c *gin.Context, text string) { s.Sessions.SetFlash(c, "ok", text) }

// ErrorPage renders the friendly page for status with a message for people.
func (s *Shell) ErrorPage(c *gin.Context, status int, msg string) {
	title := map[int]string{
		http.StatusBadRequest:            "That request did not make sense",
		http.StatusForbidden:             "You cannot do that",
		http.StatusNotFound:              "Page not found",
		http.StatusTooManyRequests:       "Slow down",
		http.StatusRequestEntityTooLarge: "That is too large",
		http.StatusServiceUnavailable:    "Parley is having trouble",
	}[status]
	if title == "" {
		title = "Something went wrong"
	}
	if msg == "" {
		switch status {
		case http.StatusNotFound:
			msg = "There is nothing here. The link may be old, or the page may be private."
		case http.StatusForbidden:
			msg = "Your account does not have permission for this page."
		default:
			msg = "We could not finish this. It was logged, and nothing you sent was lost; try again in a moment."
		}
	}
	s.HTML(c, status, "error", Data{Title: title, Page: msg})
	c.Abort()
}

// Fail renders the error page that fits err: 404 for ErrNotFound, 403
// for ErrForbidden, 400 for invalid input, and 500 (logged, with no
// internals shown) for the rest.
func (s *Shell) Fail(c *gin.Context, err error) {
	var fe *mailflow.FieldError
	switch {
	case errors.Is(err, mailflow.ErrNotFound) && !errors.As(err, &fe):
		s.ErrorPage(c, http.StatusNotFound, "")
	case errors.Is(err, mailflow.ErrForbidden):
		msg := ""
		if errors.As(err, &fe) {
			msg = fe.Msg
		}
		s.ErrorPage(c, http.StatusForbidden, mailflow.UpperFirst(msg))
	case errors.Is(err, mailflow.ErrInvalid):
		s.ErrorPage(c, http.StatusBadRequest, mailflow.UpperFirst(err.Error()))
	default:
		s.Log.Error("page failed", "path", c.Request.URL.Path, "err", err)
		s.ErrorPage(c, http.StatusInternalServerError, "")
	}
}

// FieldErrors turns a validation error into per-field messages; ok is
// false when err is not about fields (the caller fails with it).
func FieldErrors(err error) (map[string]string, bool) {
	var fes *mailflow.FieldErrors
	if errors.As(err, &fes) {
		return fes.Fields, true
	}
	var fe *mailflow.FieldError
	if errors.As(err, &fe) && fe.Field != "" && (errors.Is(err, mailflow.ErrInvalid) || errors.Is(err, mailflow.ErrDuplicate)) {
		return map[string]string{fe.Field: mailflow.UpperFirst(fe.Msg)}, true
	}
	return nil, false
}

// FormValues keeps what was typed in the named fields, to fill the form
// again beside its errors (never passwords).
func FormValues(c *gin.Context, fields ...string) map[string]string {
	m := make(map[string]string, len(fields))
	for _, f := range fields {
		m[f] = c.PostForm(f)
	}
	return m
}

// PathUser loads the user whose id is the path parameter param, answering
// 404 itself (and reporting false) when there is none.
func (s *Shell) PathUser(c *gin.Context, st *store.Store, param string) (mailflow.User, bool) {
	id, err := strconv.ParseInt(c.Param(param), 10, 64)
	if err != nil {
		s.ErrorPage(c, http.StatusNotFound, "")
		return mailflow.User{}, false
	}
	u, err := st.UserByID(c.Request.Context(), id)
	if err != nil {
		s.Fail(c, err)
		return u, false
	}
	return u, true
}

func zone(tz string) *time.Location {
	loc, _ := mailflow.Location(tz)
	return loc
}
