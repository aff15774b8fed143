package account

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// ProfileForm fills the profile form from the account.
func ProfileForm(u mailflow.User) map[string]string {
	f := map[string]string{
		"name": u.Name, "title": u.Title, "organization": u.Organization, "bio": u.Bio, "website": u.Website,
		"social_links": strings.Join(u.SocialLinks, "\n"), "timezone": u.Timezone, "default_delivery": string(u.DefaultDelivery),
	}
	if u.ShowGroups {
		f["show_groups"] = "1"
	}
	return f
}

// renderAccount shows "Manage my account"; form and errs are nil on a
// plain visit.
func (h *handler) renderAccount(c *gin.Context, status int, form, errs map[string]string, newToken string) {
	u := userOf(c)
	toks, err := h.Store.ListTokens(c.Request.Context(), u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	private, err := h.Store.AcceptsPrivate(c.Request.Context(), u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	cv, err := h.conversations(c.Request.Context(), u.ID) // muted and followed threads (issue 19)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	f := ProfileForm(u)
	for k, v := range form {
		f[k] = v
	}
	h.Shell.HTML(c, status, "account", page.Data{Title: "Manage my account", Nav: "account", Form: f, Errors: errs,
		Page: gin.H{"Timezones": accounts.Timezones(), "Deliveries": page.DeliveryChoices(), "Tokens": toks, "NewToken": newToken,
			"Pause": h.pauseView(u), "PrivateMessages": private, "Conversations": cv}})
}

func (h *handler) accountPage(c *gin.Context) { h.renderAccount(c, http.StatusOK, nil, nil, "") }

func (h *handler) updateProfile(c *gin.Context) {
	u := userOf(c)
	// The body was bounded and parsed by the CSRF guard (page.MaxUploadBytes).
	form := page.FormValues(c, "name", "title", "organization", "bio", "website", "social_links", "timezone", "default_delivery", "show_groups")
	p, errs := ParseProfile(form)
	newPicture, pictureType, problem := picture.FromForm(c, "picture")
	if problem != "" {
		errs.Add("picture", problem)
	}
	if errs.Any() {
		status := http.StatusUnprocessableEntity
		if errs.Fields["picture"] != "" && strings.Contains(errs.Fields["picture"], "too large: the limit") {
			status = http.StatusRequestEntityTooLarge
		}
		h.renderAccount(c, status, form, errs.Fields, "")
		return
	}
	var pic *picture.Upload
	if newPicture != nil {
		pic = &picture.Upload{Data: newPicture, ContentType: pictureType}
	}
	err := h.Accounts.UpdateProfile(c.Request.Context(), u.ID, p, pic, c.PostForm("clear_picture") == "1")
	if errs, ok := page.FieldErrors(err); ok {
		h.renderAccount(c, http.StatusUnprocessableEntity, form, errs, "")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Your profile is updated.")
	h.Shell.Redirect(c, fmt.Sprintf("/people/%d", u.ID))
}

// ParseProfile checks the profile form.
func ParseProfile(f map[string]string) (store.Profile, *mailflow.FieldErrors) {
	errs := &mailflow.FieldErrors{}
	p := store.Profile{
		Name: strings.TrimSpace(f["name"]), Title: strings.TrimSpace(f["title"]),
		Organization: strings.TrimSpace(f["organization"]), Bio: strings.TrimSpace(strings.ReplaceAll(f["bio"], "\r\n", "\n")),
		Timezone: f["timezone"], DefaultDelivery: mailflow.Delivery(f["default_delivery"]), ShowGroups: f["show_groups"] == "1",
	}
	if p.Name == "" {
		errs.Add("name", "Enter your name.")
	}
	for field, v := range map[string]string{"name": p.Name, "title": p.Title, "organization": p.Organization} {
		if len([]rune(v)) > 200 {
			errs.Add(field, "Use at most 200 characters.")
		}
	}
	if len([]rune(p.Bio)) > 5000 {
		errs.Add("bio", "Use at most 5,000 characters.")
	}
	if !accounts.ValidTimezone(p.Timezone) {
		errs.Add("timezone", "Choose a time zone from the list.")
	}
	if !p.DefaultDelivery.Valid() {
		errs.Add("default_delivery", "Choose one of the email settings.")
	}
	if w := strings.TrimSpace(f["website"]); w != "" {
		if u, ok := webLink(w); ok {
			p.Website = u
		} else {
			errs.Add("website", "Enter a web address starting with https:// or http://.")
		}
	}
	for _, line := range strings.Split(f["social_links"], "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		u, ok := webLink(line)
		if !ok {
			errs.Add("social_links", fmt.Sprintf("%q is not a web address starting with https:// or http://.", line))
			continue
		}
		p.SocialLinks = append(p.SocialLinks, u)
	}
	if len(p.SocialLinks) > 8 {
		errs.Add("social_links", "Add at most 8 links.")
	}
	return p, errs
}

// webLink accepts only http(s) links with a host: a javascript: or data:
// "website" must never become a link on a profile page.
func webLink(s string) (string, bool) {
	if len(s) > 500 {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", false
	}
	return u.String(), true
}

func (h *handler) changePassword(c *gin.Context) {
	u := userOf(c)
	err := h.Accounts.ChangePassword(c.Request.Context(), u, c.PostForm("current_password"), c.PostForm("new_password"), session.IDHash(c))
	if errs, ok := page.FieldErrors(err); ok {
		h.renderAccount(c, http.StatusUnprocessableEntity, nil, errs, "")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "Your password is changed; your other sessions have ended.")
	h.Shell.Redirect(c, "/account")
}

func (h *handler) changeEmail(c *gin.Context) {
	u := userOf(c)
	form := page.FormValues(c, "new_email")
	addr, err := h.Accounts.RequestEmailChange(c.Request.Context(), u, c.PostForm("password"), form["new_email"])
	if errs, ok := page.FieldErrors(err); ok {
		if m, ok := errs["password"]; ok {
			errs["email_password"] = m // the password field of this form has its own id
		}
		h.renderAccount(c, http.StatusUnprocessableEntity, form, errs, "")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "We sent a link to "+addr+". Your address changes when you open it.")
	h.Shell.Redirect(c, "/account")
}

func (h *handler) createToken(c *gin.Context) {
	u := userOf(c)
	name := strings.TrimSpace(c.PostForm("token_name"))
	if name == "" || len([]rune(name)) > 200 {
		h.renderAccount(c, http.StatusUnprocessableEntity, nil, map[string]string{"token_name": "Give the token a name (up to 200 characters), so you know later what uses it."}, "")
		return
	}
	tok, err := sign.NewAPIToken()
	if err == nil {
		err = h.Store.CreateToken(c.Request.Context(), u.ID, name, sign.TokenHash(h.SecretKey, tok))
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	// Shown once, on this response: never stored, never put in a redirect.
	h.renderAccount(c, http.StatusCreated, nil, nil, tok)
}

func (h *handler) revokeToken(c *gin.Context) {
	u := userOf(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	if err := h.Store.RevokeToken(c.Request.Context(), u.ID, id); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.Flash(c, "The token is revoked.")
	h.Shell.Redirect(c, "/account")
}

func (h *handler) export(c *gin.Context) {
	u := userOf(c)
	b, err := h.Accounts.ExportData(c.Request.Context(), u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	name := fmt.Sprintf("parley-data-%d-%s.json", u.ID, time.Now().UTC().Format("2006-01-02"))
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}

func (h *handler) deleteForm(c *gin.Context) {
	h.Shell.HTML(c, http.StatusOK, "delete_account", page.Data{Title: "Delete my account"})
}

func (h *handler) deleteAccount(c *gin.Context) {
	cur := session.Get(c)
	if cur.Impersonator != nil {
		h.Shell.ErrorPage(c, http.StatusForbidden, "Only the member themselves can delete their account.")
		return
	}
	err := h.Accounts.DeleteAccount(c.Request.Context(), cur.User, c.PostForm("password"))
	if errs, ok := page.FieldErrors(err); ok {
		h.Shell.HTML(c, http.StatusUnprocessableEntity, "delete_account", page.Data{Title: "Delete my account", Errors: errs})
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	_ = h.Shell.Sessions.Logout(c)
	h.Shell.Flash(c, "Your account is deleted. Thank you for being part of "+h.Shell.Brand+".")
	h.Shell.Redirect(c, "/")
}
