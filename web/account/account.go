// Package account holds the pages of an account's life: sign up, email
// verification, log in and out (with a password or single sign-on),
// password reset, the terms of service, and "Manage my account" (profile,
// picture, password, address, API tokens, data export, deletion). The
// rules live in mailflow/accounts; these handlers read forms, call it,
// and render.
package account

import (
	"encoding/json"
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
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
	"github.com/parleymail/parley/web/sso"
)

// Deps are what the account pages need.
type Deps struct {
	Shell     *page.Shell
	Accounts  *accounts.Service
	Store     *store.Store
	SSO       *sso.Provider // nil: password sign-in only
	Terms     template.HTML // the terms of service, rendered
	SecretKey string        // hashes API tokens
	Log       *slog.Logger
	Now       func() time.Time // the clock pauses are judged by (issue 19); nil: time.Now
}

type handler struct{ Deps }

// Register adds the routes. rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	sh := d.Shell
	rg.GET("/signup", h.signupForm)
	rg.POST("/signup", h.signup)
	rg.GET("/login", h.loginForm)
	rg.POST("/login", h.login)
	rg.POST("/logout", h.logout)
	rg.GET(urls.VerifyEmailPath, h.verifyEmailForm)
	rg.POST(urls.VerifyEmailPath, h.verifyEmail)
	rg.POST("/verify-email/resend", sh.RequireUser, h.resendVerification)
	rg.GET(urls.ConfirmEmailPath, h.confirmNewEmailForm)
	rg.POST(urls.ConfirmEmailPath, h.confirmNewEmail)
	rg.GET("/forgot-password", h.forgotForm)
	rg.POST("/forgot-password", h.forgot)
	rg.GET(urls.ResetPasswordPath, h.resetForm)
	rg.POST(urls.ResetPasswordPath, h.reset)
	rg.GET("/terms", h.termsPage)
	rg.POST("/terms", sh.RequireUser, h.acceptTerms)
	rg.GET(urls.InvitePath, h.inviteForm)
	rg.POST(urls.InvitePath, h.invite)
	rg.GET("/login/oidc", h.ssoBegin)
	rg.GET("/login/oidc/callback", h.ssoCallback)

	acct := rg.Group("/account", sh.RequireUser)
	acct.GET("", h.accountPage)
	acct.POST("/profile", h.updateProfile)
	acct.POST("/password", h.changePassword)
	acct.POST("/email", h.changeEmail)
	acct.POST("/private-messages", h.setPrivateMessages) // private.go
	acct.POST("/tokens", h.createToken)
	acct.POST("/tokens/:id/revoke", h.revokeToken)
	acct.GET("/export", h.export)
	acct.GET("/delete", h.deleteForm)
	acct.POST("/delete", h.deleteAccount)
	// Pausing mail and plain-text-only email (issue 19).
	acct.POST("/pause", h.pause)
	acct.POST("/pause/end", h.endPause)
	acct.POST("/plain-text", h.plainText)
	// Muted and followed conversations (issue 19).
	acct.POST("/conversations/follow-own", h.setFollowOwn)
	acct.POST("/conversations/:id", h.setConversation)
}

func (h *handler) signupForm(c *gin.Context) {
	if session.Get(c) != nil {
		h.Shell.Redirect(c, "/")
		return
	}
	h.Shell.HTML(c, http.StatusOK, "signup", page.Data{Title: "Create your account",
		Page: gin.H{"Timezones": accounts.Timezones()}})
}

func (h *handler) signup(c *gin.Context) {
	form := page.FormValues(c, "name", "email", "timezone", "invite")
	u, err := h.Accounts.Signup(c.Request.Context(), accounts.SignupInput{
		Email: form["email"], Name: form["name"], Password: c.PostForm("password"), Timezone: form["timezone"], ClientIP: c.ClientIP(),
		Invite: form["invite"]})
	var te *accounts.ThrottledError
	if errors.As(err, &te) {
		c.Header("Retry-After", retryAfter(te.Wait))
		h.Shell.HTML(c, http.StatusTooManyRequests, "signup", page.Data{Title: "Create your account", Form: form,
			Errors: map[string]string{"email": te.Error()}, Page: gin.H{"Timezones": accounts.Timezones()}})
		return
	}
	if errs, ok := page.FieldErrors(err); ok {
		h.Shell.HTML(c, http.StatusUnprocessableEntity, "signup", page.Data{Title: "Create your account", Errors: errs, Form: form,
			Page: gin.H{"Timezones": accounts.Timezones()}})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	next := "/terms"
	if form["invite"] != "" {
		// Signing up from an invitation: the link proved the address, and
		// the member joins the invitation's group.
		if inv, err := h.Accounts.CheckInvite(c.Request.Context(), form["invite"]); err == nil {
			if err := h.Accounts.AcceptInvite(c.Request.Context(), u, inv); err == nil {
				if inv.Group != nil {
					next = "/terms?next=" + url.QueryEscape(h.Shell.URL("/g/"+inv.Group.Slug))
				}
				h.Shell.Flash(c, "Welcome to "+h.Shell.Brand+", "+u.Name+".")
				h.startSession(c, u.ID, next)
				return
			} else if !errors.Is(err, accounts.ErrInviteForOther) {
				h.Log.Warn("accepting an invitation at sign-up", "user", u.ID, "err", err)
			}
		}
	}
	if u.Verified() {
		h.Shell.Flash(c, "Welcome to "+h.Shell.Brand+", "+u.Name+".")
	} else {
		h.Shell.Flash(c, "Welcome! We sent a link to "+u.Email+": open it to confirm your address.")
	}
	h.startSession(c, u.ID, next)
}

// inviteForm opens an invitation link and changes nothing (link
// scanners open links): signed in, it shows a page whose one button
// accepts (invite); signed out, the invited address signs up, which
// accepts it, or logs in, if it has an account, and comes back here.
func (h *handler) inviteForm(c *gin.Context) {
	ctx := c.Request.Context()
	tok := c.Query("token")
	inv, ok := h.checkInvite(c, tok)
	if !ok {
		return
	}
	cur := session.Get(c)
	if cur == nil {
		if _, err := h.Store.UserByEmail(ctx, inv.Email); err == nil {
			h.Shell.Flash(c, "Log in as "+inv.Email+" to accept the invitation.")
			h.Shell.Redirect(c, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
			return
		}
		h.Shell.HTML(c, http.StatusOK, "signup", page.Data{Title: "Create your account",
			Form: map[string]string{"email": inv.Email, "invite": tok}, Page: gin.H{"Timezones": accounts.Timezones()}})
		return
	}
	if !h.inviteFor(c, cur.User, inv) {
		return
	}
	p := page.Confirm{Title: "Accept the invitation?", Text: "You were invited to " + h.Shell.Brand + " as " + inv.Email + ".",
		Action: "/invite", Fields: map[string]string{"token": tok}, Button: "Accept the invitation", Cancel: "/"}
	if inv.Group != nil {
		p.Title = "Join " + inv.Group.Name + "?"
		p.Text = "You were invited to join " + inv.Group.Name + " as " + inv.Email + "."
		p.Button = "Join " + inv.Group.Name
	}
	h.Shell.ConfirmPage(c, p)
}

// invite is the button of inviteForm: the address counts as confirmed,
// and the member joins the invitation's group.
func (h *handler) invite(c *gin.Context) {
	inv, ok := h.checkInvite(c, c.PostForm("token"))
	if !ok {
		return
	}
	cur := session.Get(c)
	if cur == nil {
		h.Shell.ErrorPage(c, http.StatusForbidden, "Log in as "+inv.Email+" first, then open the link in the email again.")
		return
	}
	if !h.inviteFor(c, cur.User, inv) {
		return
	}
	if err := h.Accounts.AcceptInvite(c.Request.Context(), cur.User, inv); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if inv.Group != nil {
		h.Shell.Flash(c, "You joined "+inv.Group.Name+".")
		h.Shell.Redirect(c, "/g/"+inv.Group.Slug)
		return
	}
	h.Shell.Flash(c, "Your address is confirmed. Welcome!")
	h.Shell.Redirect(c, "/")
}

// checkInvite verifies an invitation's token, answering 400 itself when
// it is not valid.
func (h *handler) checkInvite(c *gin.Context, tok string) (accounts.Invitation, bool) {
	inv, err := h.Accounts.CheckInvite(c.Request.Context(), tok)
	if errors.Is(err, accounts.ErrBadLink) {
		h.message(c, http.StatusBadRequest, "This invitation does not work any more",
			"Invitations work for 30 days. Ask the person who invited you for a new one.", "/", "Go to the start page")
		return inv, false
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return inv, false
	}
	return inv, true
}

// inviteFor answers 403 itself when the invitation was sent to another
// address than u's.
func (h *handler) inviteFor(c *gin.Context, u mailflow.User, inv accounts.Invitation) bool {
	if strings.EqualFold(u.Email, inv.Email) {
		return true
	}
	h.message(c, http.StatusForbidden, "This invitation is for someone else",
		"It was sent to "+inv.Email+", and you are logged in as "+u.Email+". Log out, then open the link again.", "/", "Go to the start page")
	return false
}

// startSession signs the browser in as userID and goes to next.
func (h *handler) startSession(c *gin.Context, userID int64, next string) {
	if err := h.Shell.Sessions.Login(c, userID, nil); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Redirect(c, orHome(next))
}

func (h *handler) loginForm(c *gin.Context) {
	next := h.Shell.SafeNext(c.Query("next"))
	if session.Get(c) != nil {
		h.Shell.Redirect(c, orHome(next))
		return
	}
	h.renderLogin(c, http.StatusOK, map[string]string{"next": next}, nil)
}

func (h *handler) renderLogin(c *gin.Context, status int, form, errs map[string]string) {
	ssoName := ""
	if h.SSO != nil {
		ssoName = h.SSO.Name()
	}
	h.Shell.HTML(c, status, "login", page.Data{Title: "Log in", Form: form, Errors: errs, Page: gin.H{"SSOName": ssoName}})
}

func orHome(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (h *handler) login(c *gin.Context) {
	form := page.FormValues(c, "email")
	form["next"] = h.Shell.SafeNext(c.PostForm("next"))
	u, err := h.Accounts.Authenticate(c.Request.Context(), form["email"], c.PostForm("password"), c.ClientIP())
	var te *accounts.ThrottledError
	switch {
	case errors.As(err, &te):
		c.Header("Retry-After", retryAfter(te.Wait))
		h.renderLogin(c, http.StatusTooManyRequests, form, map[string]string{"form": te.Error()})
		return
	case errors.Is(err, accounts.ErrNoAccount):
		h.renderLogin(c, http.StatusUnauthorized, form, map[string]string{"email": "No account uses this address. Check it, or create an account."})
		return
	case errors.Is(err, accounts.ErrWrongPassword):
		h.renderLogin(c, http.StatusUnauthorized, form, map[string]string{"password": "This password is not right. Try again, or reset it."})
		return
	case errors.Is(err, accounts.ErrNoPassword), errors.Is(err, accounts.ErrInactive):
		h.renderLogin(c, http.StatusUnauthorized, form, map[string]string{"form": mailflow.UpperFirst(err.Error())})
		return
	case err != nil:
		h.Shell.Fail(c, err)
		return
	}
	h.startSession(c, u.ID, form["next"])
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(int(d.Seconds())+1, 1))
}

func (h *handler) logout(c *gin.Context) {
	if err := h.Shell.Sessions.Logout(c); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "You are logged out.")
	h.Shell.Redirect(c, "/login")
}

func (h *handler) message(c *gin.Context, status int, title, text, link, linkText string) {
	h.Shell.HTML(c, status, "message", page.Data{Title: title, Page: gin.H{"Text": text, "Link": link, "LinkText": linkText}})
}

func (h *handler) resendVerification(c *gin.Context) {
	u := session.User(c)
	err := h.Accounts.ResendVerification(c.Request.Context(), *u)
	var te *accounts.ThrottledError
	if errors.As(err, &te) {
		c.Header("Retry-After", retryAfter(te.Wait))
		h.Shell.Flash(c, te.Error())
		h.Shell.Redirect(c, "/")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "We sent a new link to "+u.Email+".")
	h.Shell.Redirect(c, "/")
}

// confirmNewEmailForm: GET /confirm-new-email?token= asks before moving
// the account (link scanners open links); the button's POST moves it.
func (h *handler) confirmNewEmailForm(c *gin.Context) {
	tok := c.Query("token")
	_, addr, err := h.Accounts.CheckNewEmailLink(c.Request.Context(), tok)
	if errors.Is(err, accounts.ErrBadLink) {
		h.badNewEmailLink(c)
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.ConfirmPage(c, page.Confirm{Title: "Confirm your new address", Text: "Move your account to " + addr + "?",
		Action: urls.ConfirmEmailPath, Fields: map[string]string{"token": tok}, Button: "Use this address"})
}

func (h *handler) badNewEmailLink(c *gin.Context) {
	h.message(c, http.StatusBadRequest, "This link does not work any more",
		"Links to confirm a new address work for 7 days. Ask for a new one on your account page.", "/account", "Manage my account")
}

// confirmNewEmail: POST /confirm-new-email, the button of
// confirmNewEmailForm.
func (h *handler) confirmNewEmail(c *gin.Context) {
	u, err := h.Accounts.ConfirmEmailChange(c.Request.Context(), c.PostForm("token"))
	if errors.Is(err, accounts.ErrBadLink) {
		h.badNewEmailLink(c)
		return
	}
	if errs, ok := page.FieldErrors(err); ok {
		h.message(c, http.StatusConflict, "The address could not be changed", errs["email"], "/account", "Manage my account")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.message(c, http.StatusOK, "Address changed", "Your account now uses "+u.Email+".", "/account", "Manage my account")
}

func (h *handler) forgotForm(c *gin.Context) {
	h.Shell.HTML(c, http.StatusOK, "forgot", page.Data{Title: "Reset your password", Form: map[string]string{"email": c.Query("email")}})
}

func (h *handler) forgot(c *gin.Context) {
	form := page.FormValues(c, "email")
	err := h.Accounts.RequestReset(c.Request.Context(), form["email"], c.ClientIP())
	var fieldErr string
	var te *accounts.ThrottledError
	switch {
	case errors.As(err, &te):
		c.Header("Retry-After", retryAfter(te.Wait))
		h.Shell.HTML(c, http.StatusTooManyRequests, "forgot", page.Data{Title: "Reset your password", Form: form,
			Errors: map[string]string{"email": te.Error()}})
		return
	case errors.Is(err, accounts.ErrNoAccount):
		fieldErr = "No account uses this address. Check it, or create an account."
	case errors.Is(err, accounts.ErrInactive):
		fieldErr = "This account is not active."
	case err != nil:
		h.Shell.Fail(c, err)
		return
	}
	if fieldErr != "" {
		h.Shell.HTML(c, http.StatusUnprocessableEntity, "forgot", page.Data{Title: "Reset your password", Form: form,
			Errors: map[string]string{"email": fieldErr}})
		return
	}
	h.message(c, http.StatusOK, "Check your email", "We sent a link to "+strings.TrimSpace(form["email"])+
		". It works once, for one hour. If it does not arrive in a few minutes, look in your spam folder.", "", "")
}

func (h *handler) resetForm(c *gin.Context) {
	tok := c.Query("token")
	u, err := h.Accounts.CheckResetToken(c.Request.Context(), tok)
	if errors.Is(err, accounts.ErrBadLink) {
		h.message(c, http.StatusBadRequest, "This link does not work any more",
			"Reset links work once, for one hour. Ask for a new one.", "/forgot-password", "Reset my password")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, http.StatusOK, "reset", page.Data{Title: "Choose a new password", Page: gin.H{"Token": tok, "Email": u.Email}})
}

func (h *handler) reset(c *gin.Context) {
	tok := c.PostForm("token")
	u, err := h.Accounts.ResetPassword(c.Request.Context(), tok, c.PostForm("password"))
	if errors.Is(err, accounts.ErrBadLink) {
		h.message(c, http.StatusBadRequest, "This link does not work any more",
			"Reset links work once, for one hour. Ask for a new one.", "/forgot-password", "Reset my password")
		return
	}
	if errs, ok := page.FieldErrors(err); ok {
		h.Shell.HTML(c, http.StatusUnprocessableEntity, "reset", page.Data{Title: "Choose a new password", Errors: errs,
			Page: gin.H{"Token": tok, "Email": u.Email}})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	// The reset ended every session, this browser's included.
	_ = h.Shell.Sessions.Logout(c)
	h.Shell.Flash(c, "Your password is changed. Log in with the new one.")
	h.Shell.Redirect(c, "/login")
}

func (h *handler) termsPage(c *gin.Context) {
	h.Shell.HTML(c, http.StatusOK, "terms", page.Data{Title: "Terms of service",
		Form: map[string]string{"next": h.Shell.SafeNext(c.Query("next"))}, Page: gin.H{"HTML": h.Terms}})
}

func (h *handler) acceptTerms(c *gin.Context) {
	u := session.User(c)
	if err := h.Store.AcceptTerms(c.Request.Context(), u.ID); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Redirect(c, orHome(h.Shell.SafeNext(c.PostForm("next"))))
}

// ssoCookie keeps a single sign-on in progress: state, nonce, PKCE
// verifier and where to go afterwards, signed, for ten minutes.
const ssoCookie = "parley_oidc"

type ssoState struct {
	sso.Pending
	Next string `json:"next"`
}

func (h *handler) ssoBegin(c *gin.Context) {
	if h.SSO == nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	authURL, pending, err := h.SSO.Begin(c.Request.Context())
	if err != nil {
		h.Log.Warn("single sign-on unavailable", "err", err)
		h.renderLogin(c, http.StatusServiceUnavailable, map[string]string{},
			map[string]string{"form": "Signing in with " + h.SSO.Name() + " is not possible right now. Try again later, or log in with your password."})
		return
	}
	b, _ := json.Marshal(ssoState{Pending: pending, Next: h.Shell.SafeNext(c.Query("next"))})
	h.Shell.Sessions.SetSigned(c, ssoCookie, string(b), 600)
	c.Redirect(http.StatusFound, authURL)
}

func (h *handler) ssoCallback(c *gin.Context) {
	if h.SSO == nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	raw, ok := h.Shell.Sessions.Signed(c, ssoCookie)
	h.Shell.Sessions.ClearCookie(c, ssoCookie)
	var st ssoState
	if !ok || json.Unmarshal([]byte(raw), &st) != nil {
		h.renderLogin(c, http.StatusBadRequest, map[string]string{}, map[string]string{"form": "That sign-in took too long or was started elsewhere. Try again."})
		return
	}
	id, err := h.SSO.Finish(c.Request.Context(), c.Request.URL.Query(), st.Pending)
	if err != nil {
		h.Log.Info("single sign-on failed", "err", err)
		msg := "Signing in with " + h.SSO.Name() + " did not work. Try again, or log in with your password."
		if errors.Is(err, sso.ErrDenied) {
			msg = "Signing in with " + h.SSO.Name() + " was cancelled."
		}
		h.renderLogin(c, http.StatusUnauthorized, map[string]string{}, map[string]string{"form": msg})
		return
	}
	u, created, err := h.Accounts.SignInWithIdentity(c.Request.Context(), accounts.Identity{
		Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, EmailVerified: id.EmailVerified, Name: id.Name})
	if errors.Is(err, accounts.ErrUnverifiedIdentity) || errors.Is(err, accounts.ErrInactive) {
		h.renderLogin(c, http.StatusForbidden, map[string]string{}, map[string]string{"form": mailflow.UpperFirst(err.Error())})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if created {
		h.Shell.Flash(c, "Welcome to "+h.Shell.Brand+", "+u.Name+".")
	}
	h.startSession(c, u.ID, st.Next)
}

// userOf is the signed-in user, for handlers behind RequireUser.
func userOf(c *gin.Context) mailflow.User { return *session.User(c) }
