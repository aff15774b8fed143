package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/sign"
)

// TestCrawlRejectsNonText walks every route the server registers (gin's
// Routes, so a route added later is crawled too) as a signed-in
// superuser with a valid CSRF token, over real HTTP against a real
// PostgreSQL, and sends each a NUL byte or invalid UTF-8: in each path
// parameter, in the query string, in an urlencoded and a multipart form,
// and (for the API) in a JSON body. No answer may be a 5xx, nothing may
// be logged at ERROR, and the pages, the API and the email-link pages
// must refuse the input with 400 or 422.
func TestCrawlRejectsNonText(t *testing.T) {
	site := newTestSite(t)
	engine, rootID, threadID := site.engine, site.rootID, site.threadID
	const apiToken = "crawl-api-token-0123456789"
	if err := site.st.CreateToken(context.Background(), rootID, "crawl", sign.TokenHash(site.secret, apiToken)); err != nil {
		t.Fatal(err)
	}
	client := site.signIn(rootID)
	if client.csrf == "" {
		t.Fatal("no CSRF token on the superuser's pages")
	}

	// Path parameters get values that exist, so that handlers past the
	// guards would find something; then, one at a time, a bad one.
	good := func(route, param string) string {
		switch param {
		case "slug":
			return "crawl"
		case "email":
			return "root@example.org"
		case "filepath":
			return "/app.css"
		case "token", "name":
			return "x"
		}
		if strings.Contains(route, "/t/") || strings.Contains(route, "/threads/") {
			return fmt.Sprint(threadID)
		}
		return fmt.Sprint(rootID)
	}
	paramRE := regexp.MustCompile(`[:*][A-Za-z_]+`)
	fill := func(route, bad string) string {
		return paramRE.ReplaceAllStringFunc(route, func(p string) string {
			if p[1:] == bad {
				return "x%00y%FF"
			}
			v := good(route, p[1:])
			if p[0] == '*' {
				return strings.TrimPrefix(v, "/")
			}
			return url.PathEscape(v)
		})
	}

	type attempt struct {
		what, method, path, ctype string
		body                      []byte
		strict                    bool // must be 400 or 422, not merely below 500
	}
	var tries []attempt
	for _, r := range engine.Routes() {
		api := strings.HasPrefix(r.Path, "/api/")
		// healthz, metrics and static files read no input a database sees;
		// the providers' webhooks refuse anything unsigned first (401).
		strict := r.Path != "/healthz" && r.Path != "/metrics" && !strings.HasPrefix(r.Path, "/static/") &&
			!strings.HasPrefix(r.Path, "/mail/webhooks/")
		base := fill(r.Path, "")
		for _, p := range paramRE.FindAllString(r.Path, -1) {
			tries = append(tries, attempt{what: "path parameter " + p, method: r.Method, path: fill(r.Path, p[1:]), strict: strict})
		}
		tries = append(tries,
			attempt{what: "query NUL", method: r.Method, path: base + "?q=a%00b&page=1", strict: strict},
			attempt{what: "query bad UTF-8", method: r.Method, path: base + "?q=%FF%FE&next=%2F", strict: strict})
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			continue
		}
		if api {
			// Whether a route reads a body at all is its own business:
			// these need only not fail.
			tries = append(tries,
				attempt{what: "JSON \\u0000", method: r.Method, path: base, ctype: "application/json",
					body: []byte(`{"name":"a\u0000b","email":"x\u0000@example.org","subject":"s\u0000","body":"b\u0000"}`)},
				attempt{what: "JSON bad UTF-8", method: r.Method, path: base, ctype: "application/json",
					body: []byte("{\"name\":\"a\xffb\",\"body\":\"\xc3\"}")})
			continue
		}
		form := url.Values{"body": {"text\x00more"}, "subject": {"\xff\xfe"}, "name": {"a\x00"}, "email": {"x\x00@example.org"},
			"q": {"\x00"}, "reason": {"\xff"}, "addresses": {"a\x00@example.org"}, "group": {"crawl"}}
		tries = append(tries, attempt{what: "urlencoded form", method: r.Method, path: base,
			ctype: "application/x-www-form-urlencoded", body: []byte(form.Encode()), strict: strict})
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		for _, f := range []string{"name", "tags", "body", "subject"} {
			_ = mw.WriteField(f, "a\x00b")
		}
		_ = mw.WriteField("group", "crawl")
		fw, _ := mw.CreateFormFile("file", "a\x00b\xff.txt")
		_, _ = fw.Write([]byte("file contents may hold \x00 and \xff"))
		_ = mw.Close()
		tries = append(tries, attempt{what: "multipart form", method: r.Method, path: base, ctype: mw.FormDataContentType(),
			body: mp.Bytes(), strict: strict})
	}

	// API requests that change things with a valid body (a DELETE reads
	// none) go last, so they cannot hide a route from the others.
	var first, last []attempt
	for _, a := range tries {
		if a.body != nil && strings.HasPrefix(a.path, "/api/") {
			last = append(last, a)
		} else {
			first = append(first, a)
		}
	}
	for _, a := range append(first, last...) {
		hdr := []string{"X-CSRF-Token", client.csrf}
		if strings.HasPrefix(a.path, "/api/") {
			hdr = append(hdr, "Authorization", "Bearer "+apiToken)
		}
		code, body := client.do(a.method, a.path, a.ctype, a.body, hdr...)
		switch {
		case code >= 500:
			t.Errorf("%s %s (%s): %d\n%.300s", a.method, a.path, a.what, code, body)
		case a.strict && code != http.StatusBadRequest && code != http.StatusUnprocessableEntity:
			t.Errorf("%s %s (%s): %d, want 400 or 422", a.method, a.path, a.what, code)
		}
	}
	t.Logf("%d routes, %d requests", len(engine.Routes()), len(tries))
	site.noErrors()
}
