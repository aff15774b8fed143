package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // the server stores opaque pictures as JPEG
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// The acceptance test of an account's life, in a real headless Chromium:
// what a member types and clicks, and what they see.

// browserTimeout bounds one browser test, from the first page to the last.
const browserTimeout = 2 * time.Minute

// browserMailWait is how long system mail may take to reach the outbox (it
// is sent by a background job).
const browserMailWait = 20 * time.Second

func TestBrowserAccountLifecycle(t *testing.T) {
	chromium := browserExecPath(t)

	dir := dataDir(t)
	addr := freeAddr(t)
	base := "http://" + addr
	env := []string{"DATA_DIR=" + dir, "HTTP_ADDR=" + addr, "SMTP_ADDR=" + freeAddr(t),
		"EMAIL_BACKEND=file", "ORIGIN=" + base}
	s := startServe(t, env)
	waitHealthy(t, base, 60*time.Second, s.exited)

	b := newBrowser(t, chromium, base)
	mail := &browserMailbox{dir: filepath.Join(dir, "outbox"), seen: map[string]bool{}}
	const (
		name     = "Ada Browser"
		email    = "ada.browser@example.org"
		password = "violet harbor lantern 42"
		newPass  = "amber meadow compass 17"
	)

	id := browserSignUp(b, name, email, password)
	browserCheckSessionCookie(b)
	browserVerifyEmail(b, mail, email)
	browserEditProfile(b, id)
	browserLogOut(b)
	browserThrottledLogin(b, email, password)
	browserResetPassword(b, mail, email, newPass)
	browserLogIn(b, email, newPass, name)

	s.stop(t, syscall.SIGTERM)
}

// Step 1: sign up, accept the terms, land on the start page unconfirmed.
// It returns the new member's id, read from the "My profile" link.
func browserSignUp(b *browserSession, name, email, password string) string {
	t := b.t
	t.Helper()
	b.expect(b.open("/signup"), http.StatusOK, "/signup", "Create your account")
	b.do(
		b.fill("#name", name),
		b.fill("#email", email),
		b.fill("#password", password),
		chromedp.SetValue(chromedp.CSS("#timezone"), "Europe/Paris"),
	)
	if tz := b.value("#timezone"); tz != "Europe/Paris" {
		t.Fatalf("sign-up time zone menu shows %q after choosing Europe/Paris", tz)
	}
	b.expect(b.submit("Create account"), http.StatusOK, "/terms", "Terms of service", "We sent a link to "+email)
	b.expect(b.submit("I accept the terms"), http.StatusOK, "/",
		"Welcome, "+name, "Confirm your email address", "open the link we sent to "+email)

	href := b.attr(`//details[contains(@class,"menu")]//a[normalize-space()="My profile"]`, "href")
	m := regexp.MustCompile(`^/people/(\d+)$`).FindStringSubmatch(href)
	if m == nil {
		t.Fatalf(`"My profile" links to %q, want /people/<id>`, href)
	}
	return m[1]
}

// The session cookie is out of reach of scripts and not sent on cross-site
// subrequests.
func browserCheckSessionCookie(b *browserSession) {
	t := b.t
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		t.Fatalf("reading the browser's cookies: %v", err)
	}
	i := slices.IndexFunc(res.Cookies, func(c *network.Cookie) bool { return c.Name == "parley_session" })
	if i < 0 {
		t.Fatalf("no parley_session cookie in the browser after sign-up; cookies: %v", browserCookieNames(res.Cookies))
	}
	c := res.Cookies[i]
	if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax {
		t.Fatalf("parley_session: HttpOnly %v, SameSite %q; want HttpOnly, SameSite Lax", c.HTTPOnly, c.SameSite)
	}
	if js := b.eval(`document.cookie`); strings.Contains(js, "parley_session") {
		t.Fatalf("page scripts can read the session cookie: document.cookie = %q", js)
	}
}

// Step 2: the link in the welcome email opens a page that asks (a link
// scanner confirms nothing); its button confirms the address.
func browserVerifyEmail(b *browserSession, mail *browserMailbox, email string) {
	t := b.t
	t.Helper()
	body := mail.wait(b, email, "Confirm your email address")
	link := browserLink(t, body, b.base+"/verify-email")
	b.expect(b.open(link), http.StatusOK, "/verify-email", "Confirm that "+email+" is your address.")
	b.expect(b.submit("Confirm my address"), http.StatusOK, "/", "Thank you: your address "+email+" is confirmed.")
	if text := b.text(); strings.Contains(text, "Confirm your email address") {
		t.Fatalf("the confirmation banner is still shown after the link was opened:\n%s", text)
	}
	b.expect(b.open("/"), http.StatusOK, "/", "Welcome")
	if text := b.text(); strings.Contains(text, "Confirm your email address") || strings.Contains(text, "is confirmed") {
		t.Fatalf("the start page still shows the banner or the flash on a second visit:\n%s", text)
	}
}

// Step 3: change the time zone, the email setting and the biography, and
// upload a picture, which comes back as a 256×256 square.
func browserEditProfile(b *browserSession, id string) {
	t := b.t
	t.Helper()
	const bio = "Writes programs for engines that do not exist yet."
	b.expect(b.open("/account"), http.StatusOK, "/account", "Manage my account", "Profile picture")
	if tz := b.value("#timezone"); tz != "Europe/Paris" {
		t.Fatalf("the account page shows time zone %q, want Europe/Paris as chosen at sign-up", tz)
	}
	pic := browserPNG(t, 300, 200)
	b.do(
		chromedp.SetValue(chromedp.CSS("#timezone"), "America/New_York"),
		chromedp.SetValue(chromedp.CSS("#default_delivery"), "digest"),
		b.fill("#bio", bio),
		chromedp.SetUploadFiles(chromedp.CSS("#picture"), []string{pic}),
	)
	profile := "/people/" + id
	b.expect(b.submit("Update"), http.StatusOK, profile, "Your profile is updated.", bio)

	src := b.attr(`//main//img[contains(@class,"avatar")]`, "src")
	if !strings.HasPrefix(src, "/pictures/") {
		t.Fatalf("the profile picture's src is %q, want /pictures/…", src)
	}
	if w := b.eval(`(() => { const i = document.querySelector("main img.avatar"); return i.complete ? i.naturalWidth + "x" + i.naturalHeight : "not loaded"; })()`); w != "256x256" {
		t.Fatalf("the browser shows the profile picture as %s, want 256x256", w)
	}
	res, err := http.Get(b.base + src)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", src, res.StatusCode, err)
	}
	img, format, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("GET %s (%s): not an image: %v", src, res.Header.Get("Content-Type"), err)
	}
	if sz := img.Bounds().Size(); sz.X != 256 || sz.Y != 256 {
		t.Fatalf("the stored picture (%s) is %dx%d, want 256x256", format, sz.X, sz.Y)
	}

	b.expect(b.open("/account"), http.StatusOK, "/account", "Manage my account")
	for sel, want := range map[string]string{"#timezone": "America/New_York", "#default_delivery": "digest", "#bio": bio} {
		if got := b.value(sel); got != want {
			t.Errorf("after the update, %s shows %q, want %q", sel, got, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// Step 4: log out from the account menu.
func browserLogOut(b *browserSession) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("details.menu > summary")))
	b.expect(b.submit(`Log out`), http.StatusOK, "/login", "You are logged out.", "Log in")
}

// Step 5: five wrong passwords lock the account's password sign-in, so the
// sixth try fails even with the right password.
func browserThrottledLogin(b *browserSession, email, password string) {
	t := b.t
	t.Helper()
	for i := 1; i <= 5; i++ {
		b.expect(b.open("/login"), http.StatusOK, "/login", "Log in")
		b.do(b.fill("#email", email), b.fill("#password", fmt.Sprintf("not my password %d", i)))
		b.expect(b.submit("Log in"), http.StatusUnauthorized, "/login", "This password is not right")
	}
	b.do(b.fill("#email", email), b.fill("#password", password))
	res := b.submit("Log in")
	b.expect(res, http.StatusTooManyRequests, "/login", "Too many failed sign-ins. Try again in", "minutes")
	if text := b.text(); strings.Contains(text, "Welcome") {
		t.Fatalf("a locked account was let in:\n%s", text)
	}
}

// Step 6: reset the password by email; the link works once.
func browserResetPassword(b *browserSession, mail *browserMailbox, email, newPass string) {
	t := b.t
	t.Helper()
	b.expect(b.open("/forgot-password"), http.StatusOK, "/forgot-password", "Reset your password")
	b.do(b.fill("#email", email))
	b.expect(b.submit("Email me a link"), http.StatusOK, "/forgot-password", "Check your email", "We sent a link to "+email)

	body := mail.wait(b, email, "Reset your")
	link := browserLink(t, body, b.base+"/reset-password")
	b.expect(b.open(link), http.StatusOK, "/reset-password", "Choose a new password", "For "+email)
	b.do(b.fill("#password", newPass))
	b.expect(b.submit("Set password"), http.StatusOK, "/login", "Your password is changed")

	b.expect(b.open(link), http.StatusBadRequest, "/reset-password", "This link does not work any more")
	if text := b.text(); strings.Contains(text, "Choose a new password") {
		t.Fatalf("a used reset link still offers the form:\n%s", text)
	}
}

// Step 7: the new password works, and the reset lifted the lock.
func browserLogIn(b *browserSession, email, password, name string) {
	b.t.Helper()
	b.expect(b.open("/login"), http.StatusOK, "/login", "Log in")
	b.do(b.fill("#email", email), b.fill("#password", password))
	b.expect(b.submit("Log in"), http.StatusOK, "/", "Welcome, "+name)
}

// browserExecPath finds Chromium: PARLEY_CHROMIUM, else the usual names on
// PATH. Without one the test skips, except on CI, where it fails.
func browserExecPath(t *testing.T) string {
	t.Helper()
	names := []string{"chromium", "chromium-browser", "google-chrome"}
	if p := os.Getenv("PARLEY_CHROMIUM"); p != "" {
		names = []string{p}
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no browser found (looked for %s); .ci/run must install chromium (apt-get install -y chromium)", strings.Join(names, ", "))
	}
	t.Skip("chromium not installed: apt-get install -y chromium")
	return ""
}

// browserSession is one browser tab on one parleyd.
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string // http://127.0.0.1:port
}

// newBrowser starts a headless Chromium, stopped when the test ends; every
// action of the test must finish within browserTimeout.
func newBrowser(t *testing.T, execPath, base string) *browserSession {
	t.Helper()
	return newBrowserWithin(t, execPath, base, browserTimeout)
}

// newBrowserWithin is newBrowser for a test that may take longer.
func newBrowserWithin(t *testing.T, execPath, base string, timeout time.Duration) *browserSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	out := &browserOutput{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.CombinedOutput(out),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	t.Cleanup(func() {
		if t.Failed() {
			if page, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`)); err == nil {
				t.Logf("the browser's page when the test failed:\n%s", page)
			}
			t.Logf("browser output:\n%s", out)
		}
	})
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v\n%s", execPath, err, out)
	}
	return &browserSession{t: t, ctx: bctx, base: base}
}

// open loads a path under base, or an absolute URL, and returns the final
// response (after redirects).
func (b *browserSession) open(target string) *network.Response {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.base + target
	}
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(target))
	if err != nil {
		b.t.Fatalf("opening %s: %v", target, err)
	}
	return res
}

// submit clicks the button of the page's main content (or the account
// menu) with this text, and waits for the page the form leads to.
func (b *browserSession) submit(button string) *network.Response {
	b.t.Helper()
	sel := chromedp.Search(fmt.Sprintf(`//main//button[normalize-space()=%[1]q] | //details[contains(@class,"menu")]//button[normalize-space()=%[1]q]`, button))
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		b.t.Fatalf("clicking %q: %v", button, err)
	}
	if res == nil {
		b.t.Fatalf("clicking %q loaded no page", button)
	}
	return res
}

// fill empties an input or textarea, then types text into it.
func (b *browserSession) fill(css, text string) chromedp.Action[chromedp.Void] {
	// Not SetValue(sel, ""): chromedp drops an empty string argument, so the
	// field would read "undefined"; and Clear fails on an empty textarea.
	empty := chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, css))
	return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(css)), empty, chromedp.SendKeys(chromedp.CSS(css), text))
}

func (b *browserSession) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browserSession) value(css string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("reading %s: %v", css, err)
	}
	return v
}

func (b *browserSession) attr(xpath, name string) string {
	b.t.Helper()
	a, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.Search(xpath), name))
	if err != nil || !a.Exists {
		b.t.Fatalf("no %s attribute on %s: %v", name, xpath, err)
	}
	return a.Value
}

func (b *browserSession) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// text is what the page shows.
func (b *browserSession) text() string { return b.eval(`document.body.innerText`) }

// expect checks the response's status, the path of the page now shown, and
// that the page shows each of texts.
func (b *browserSession) expect(res *network.Response, status int64, path string, texts ...string) {
	b.t.Helper()
	if res == nil {
		b.t.Fatalf("no response, want status %d at %s", status, path)
	}
	loc := b.eval(`location.href`)
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatal(err)
	}
	text := b.text()
	if res.Status != status || u.Path != path {
		b.t.Fatalf("on %s: status %d, want %d at %s; the page shows:\n%s", loc, res.Status, status, path, text)
	}
	for _, want := range texts {
		if !strings.Contains(text, want) {
			b.t.Fatalf("on %s: the page does not show %q; it shows:\n%s", loc, want, text)
		}
	}
}

// browserMailbox reads the .eml files EMAIL_BACKEND=file writes.
type browserMailbox struct {
	dir  string
	seen map[string]bool // files already read
}

// wait returns the decoded text of the newest message to `to` whose subject
// starts with subject and that no earlier call returned, polling until it
// arrives.
func (m *browserMailbox) wait(b *browserSession, to, subject string) string {
	t := b.t
	t.Helper()
	deadline := time.Now().Add(browserMailWait)
	for {
		entries, err := os.ReadDir(m.dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		var newest, body string
		for _, e := range entries {
			n := e.Name()
			if m.seen[n] || strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".eml") {
				continue
			}
			rcpt, subj, text := browserReadMail(t, filepath.Join(m.dir, n))
			if strings.EqualFold(rcpt, to) && strings.HasPrefix(subj, subject) {
				m.seen[n] = true
				if n > newest { // names sort by time of sending
					newest, body = n, text
				}
			}
		}
		if newest != "" {
			return body
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			t.Fatalf("no email to %s with subject %q in %s after %s", to, subject, m.dir, browserMailWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// browserReadMail returns a message's recipient, subject and text, with the
// transfer encoding undone.
func browserReadMail(t *testing.T, path string) (to, subject, text string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e, err := message.Read(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	h := gomail.Header{Header: e.Header}
	addrs, err := h.AddressList("To")
	if err != nil || len(addrs) != 1 {
		t.Fatalf("%s: To: %v %v", path, addrs, err)
	}
	if subject, err = h.Subject(); err != nil {
		t.Fatalf("%s: Subject: %v", path, err)
	}
	// A system email is its text, alone or as the first part of a
	// multipart/alternative with its HTML.
	body := e
	if mr := e.MultipartReader(); mr != nil {
		if body, err = mr.NextPart(); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if mt, _, _ := body.Header.ContentType(); mt != "text/plain" {
		t.Fatalf("%s: a system email whose text is of type %q, want text/plain", path, mt)
	}
	b, err := io.ReadAll(body.Body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return addrs[0].Address, subject, string(b)
}

var browserURL = regexp.MustCompile(`https?://[^\s<>"]+`)

// browserLink returns the one link in body that starts with prefix and
// carries a token.
func browserLink(t *testing.T, body, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range browserURL.FindAllString(body, -1) {
		if strings.HasPrefix(l, prefix+"?token=") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s?token=… link in the email, found %q in:\n%s", prefix, found, body)
	}
	return found[0]
}

// browserPNG writes an opaque w×h PNG with a gradient and returns its path.
func browserPNG(t *testing.T, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	p := filepath.Join(t.TempDir(), "me.png")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func browserCookieNames(cs []*network.Cookie) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

// browserOutput collects the browser's stdout and stderr, for the log of a
// failed test.
type browserOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *browserOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buf.Len() > 64<<10 {
		return len(p), nil
	}
	return o.buf.Write(p)
}

func (o *browserOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
