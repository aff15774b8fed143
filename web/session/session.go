// Package session owns who is signed in to the web UI: sessions kept in
// PostgreSQL behind an HttpOnly cookie, the CSRF token every form and
// fetch must send back, and the flash message shown after a redirect.
//
// A session id is 32 random bytes; the database keeps only its SHA-256,
// so a database copy does not hand out live sessions. The id changes at
// sign-in and whenever the session's privileges change, so an id planted
// before sign-in (session fixation) is worth nothing after it.
package session

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// Cookie names.
const (
	SessionCookie = "parley_session"
	csrfCookie    = "parley_csrf"
	flashCookie   = "parley_flash"
)

// CSRFField is the form field (and X-CSRF-Token the header) that carries
// the token.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// Manager issues and checks sessions.
type Manager struct {
	Store  *store.Store
	Key    string // SECRET_KEY: signs CSRF tokens and flash cookies
	Secure bool   // ORIGIN is https: cookies get the Secure flag
	Path   string // cookie path: ORIGIN's path, or "/"
	Idle   time.Duration
	Max    time.Duration
	Log    *slog.Logger
}

// Current is the signed-in member of a request.
type Current struct {
	Session      store.Session
	User         mailflow.User
	Impersonator *mailflow.User // set while a superuser acts as User
	rawID        string
}

const (
	ctxCurrent = "parley.session"
	ctxCSRF    = "parley.csrf"
	ctxFlash   = "parley.flash"
)

var b64 = base64.RawURLEncoding

func newID() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("session: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return b64.EncodeToString(b)
}

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

func (m *Manager) path() string {
	if m.Path == "" {
		return "/"
	}
	return m.Path
}

func (m *Manager) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: m.path(), MaxAge: maxAge,
		HttpOnly: true, Secure: m.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// Load is the middleware that reads the session, the CSRF cookie and the
// flash message of every page request.
func (m *Manager) Load(c *gin.Context) {
	csrf, err := c.Cookie(csrfCookie)
	if err != nil || len(csrf) != 43 {
		csrf = newID()
		m.setCookie(c, csrfCookie, csrf, 0)
	}
	c.Set(ctxCSRF, csrf)
	if raw, err := c.Cookie(flashCookie); err == nil {
		if f, ok := m.openFlash(raw); ok {
			c.Set(ctxFlash, f)
		}
		m.setCookie(c, flashCookie, "", -1)
	}
	id, err := c.Cookie(SessionCookie)
	if err != nil || id == "" {
		c.Next()
		return
	}
	ctx := c.Request.Context()
	se, u, err := m.Store.SessionUser(ctx, hashID(id))
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		m.setCookie(c, SessionCookie, "", -1)
		c.Next()
		return
	case err != nil:
		m.Log.Error("loading session", "err", err)
		c.AbortWithStatus(http.StatusServiceUnavailable)
		return
	}
	if u.Status != mailflow.UserActive {
		_ = m.Store.DeleteSession(ctx, se.IDHash)
		m.setCookie(c, SessionCookie, "", -1)
		c.Next()
		return
	}
	cur := &Current{Session: se, User: u, rawID: id}
	if se.ImpersonatorID != nil {
		imp, err := m.Store.UserByID(ctx, *se.ImpersonatorID)
		if err != nil || mailflow.CanImpersonate(&imp, u) != nil {
			// The impersonator lost their powers mid-way (or the member
			// became a superuser): end it.
			_ = m.Store.DeleteSession(ctx, se.IDHash)
			m.setCookie(c, SessionCookie, "", -1)
			c.Next()
			return
		}
		cur.Impersonator = &imp
	}
	if se.Rotate {
		if err := m.rotate(c, cur); err != nil {
			m.Log.Error("rotating session", "err", err)
		}
	} else if time.Since(se.LastSeenAt) > time.Minute {
		// At most one write a minute per session, not one per request.
		if err := m.Store.TouchSession(ctx, se.IDHash, time.Now().Add(m.Idle)); err != nil {
			m.Log.Warn("touching session", "err", err)
		}
	}
	c.Set(ctxCurrent, cur)
	c.Next()
}

// rotate moves a session to a new id, keeping its deadlines.
func (m *Manager) rotate(c *gin.Context, cur *Current) error {
	ctx := c.Request.Context()
	id := newID()
	next := cur.Session
	next.IDHash = hashID(id)
	next.Rotate = false
	next.IdleExpiresAt = time.Now().Add(m.Idle)
	err := m.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.DeleteSession(ctx, cur.Session.IDHash); err != nil {
			return err
		}
		return tx.CreateSession(ctx, next)
	})
	if err != nil {
		return err
	}
	cur.Session, cur.rawID = next, id
	m.setCookie(c, SessionCookie, id, 0)
	return nil
}

// Get returns the signed-in member, or nil.
func Get(c *gin.Context) *Current {
	v, ok := c.Get(ctxCurrent)
	if !ok {
		return nil
	}
	return v.(*Current)
}

// User returns the signed-in user, or nil.
func User(c *gin.Context) *mailflow.User {
	if cur := Get(c); cur != nil {
		return &cur.User
	}
	return nil
}

// Login starts a new session for userID (impersonator: the superuser who
// acts as them, or nil), ending the request's old one. Both the session
// id and the CSRF cookie are new, so nothing from before sign-in carries
// over.
func (m *Manager) Login(c *gin.Context, userID int64, impersonator *int64) error {
	ctx := c.Request.Context()
	id := newID()
	now := time.Now()
	se := store.Session{IDHash: hashID(id), UserID: userID, ImpersonatorID: impersonator,
		IdleExpiresAt: now.Add(m.Idle), ExpiresAt: now.Add(m.Max),
		UserAgent: c.Request.UserAgent(), RemoteIP: c.ClientIP()}
	if impersonator != nil && m.Max > 4*time.Hour {
		se.ExpiresAt = now.Add(4 * time.Hour) // acting as someone else is for a task, not a day
	}
	err := m.Store.Tx(ctx, func(tx *store.Store) error {
		if old, err := c.Cookie(SessionCookie); err == nil && old != "" {
			if err := tx.DeleteSession(ctx, hashID(old)); err != nil {
				return err
			}
		}
		return tx.CreateSession(ctx, se)
	})
	if err != nil {
		return err
	}
	m.setCookie(c, SessionCookie, id, 0)
	if impersonator == nil {
		if err := m.Store.NoteLogin(ctx, userID); err != nil {
			m.Log.Warn("noting a sign-in", "user", userID, "err", err)
		}
	}
	csrf := newID()
	m.setCookie(c, csrfCookie, csrf, 0)
	c.Set(ctxCSRF, csrf)
	u, err := m.Store.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	c.Set(ctxCurrent, &Current{Session: se, User: u, rawID: id})
	return nil
}

// Logout ends the request's session.
func (m *Manager) Logout(c *gin.Context) error {
	if id, err := c.Cookie(SessionCookie); err == nil && id != "" {
		if err := m.Store.DeleteSession(c.Request.Context(), hashID(id)); err != nil {
			return err
		}
	}
	m.setCookie(c, SessionCookie, "", -1)
	m.setCookie(c, csrfCookie, newID(), 0)
	c.Set(ctxCurrent, (*Current)(nil))
	return nil
}

// IDHash returns the hash of the request's session id (nil when signed
// out): what "end my other sessions" keeps.
func IDHash(c *gin.Context) []byte {
	if cur := Get(c); cur != nil {
		return cur.Session.IDHash
	}
	return nil
}

// CSRFToken returns the token forms of this request must carry. It is an
// HMAC of the per-browser CSRF cookie and the session id, so it cannot be
// forged without the cookies (which other sites cannot read) and dies
// with the session.
func (m *Manager) CSRFToken(c *gin.Context) string {
	csrf, ok := c.Get(ctxCSRF)
	if !ok {
		return "" // a response outside the page routes (a 404 for an unknown path) has no forms
	}
	sid := ""
	if cur := Get(c); cur != nil {
		sid = cur.rawID
	}
	mac := hmac.New(sha256.New, []byte(m.Key))
	mac.Write([]byte("csrf|"))
	mac.Write([]byte(csrf.(string)))
	mac.Write([]byte("|"))
	mac.Write([]byte(sid))
	return b64.EncodeToString(mac.Sum(nil))
}

// ValidCSRF reports whether the request carries the right token, in the
// form field or the header.
func (m *Manager) ValidCSRF(c *gin.Context) bool {
	got := c.GetHeader(CSRFHeader)
	if got == "" {
		got = c.PostForm(CSRFField)
	}
	return got != "" && hmac.Equal([]byte(got), []byte(m.CSRFToken(c)))
}

// Flash is a one-time message shown on the next page.
type Flash struct {
	Kind string `json:"k"` // "ok" or "error"
	Text string `json:"t"`
}

// SetFlash sets the message the next page shows.
func (m *Manager) SetFlash(c *gin.Context, kind, text string) {
	b, _ := json.Marshal(Flash{Kind: kind, Text: text})
	m.SetSigned(c, flashCookie, string(b), 0)
}

// TakeFlash returns this request's flash message, if any.
func TakeFlash(c *gin.Context) *Flash {
	v, ok := c.Get(ctxFlash)
	if !ok {
		return nil
	}
	f := v.(Flash)
	return &f
}

// openFlash reads a flash cookie.
func (m *Manager) openFlash(raw string) (Flash, bool) {
	var f Flash
	v, ok := m.open(flashCookie, raw)
	if !ok || json.Unmarshal([]byte(v), &f) != nil {
		return f, false
	}
	return f, true
}

// SetSigned sets a cookie whose value Parley signs, so that no other
// site can plant one (a flash saying "Your password was changed", the
// state of a single sign-on in progress). maxAge as http.Cookie's.
func (m *Manager) SetSigned(c *gin.Context, name, value string, maxAge int) {
	payload := b64.EncodeToString([]byte(value))
	m.setCookie(c, name, payload+"."+m.mac(name, payload), maxAge)
}

// Signed returns the value of a cookie set by SetSigned, if it is intact.
func (m *Manager) Signed(c *gin.Context, name string) (string, bool) {
	raw, err := c.Cookie(name)
	if err != nil {
		return "", false
	}
	return m.open(name, raw)
}

// ClearCookie removes a cookie set by SetSigned.
func (m *Manager) ClearCookie(c *gin.Context, name string) { m.setCookie(c, name, "", -1) }

func (m *Manager) mac(name, payload string) string {
	mac := hmac.New(sha256.New, []byte(m.Key))
	mac.Write([]byte("cookie|" + name + "|" + payload))
	return b64.EncodeToString(mac.Sum(nil)[:16])
}

func (m *Manager) open(name, raw string) (string, bool) {
	payload, sig, ok := strings.Cut(raw, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(m.mac(name, payload))) {
		return "", false
	}
	b, err := b64.DecodeString(payload)
	if err != nil {
		return "", false
	}
	return string(b), true
}
