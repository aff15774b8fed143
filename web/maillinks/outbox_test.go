package maillinks

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/outbound"
)

func TestDevOutbox(t *testing.T) {
	dir := t.TempDir()
	conn, err := outbound.NewFile(dir).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	msg := "From: a@example.org\r\nTo: b@example.org\r\nSubject: =?utf-8?q?Caf=C3=A9_news?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello <script>alert(1)</script>\r\n"
	if err := conn.Send(context.Background(), "bounces+x@lists.test", "b@example.org", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	origin, _ := url.Parse("http://localhost")
	if err := Register(r, Deps{Origin: origin, BrandTitle: "Parley", OutboxDir: dir, Log: slog.New(slog.DiscardHandler)}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()

	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	code, page := get("/dev/outbox")
	if code != 200 || !strings.Contains(page, "Café news") || !strings.Contains(page, "b@example.org") {
		t.Fatalf("outbox list: %d\n%s", code, page)
	}
	i := strings.Index(page, "/dev/outbox/")
	name := page[i+len("/dev/outbox/"):]
	name = name[:strings.IndexByte(name, '"')]
	code, page = get("/dev/outbox/" + name)
	if code != 200 || !strings.Contains(page, "Hello &lt;script&gt;") || strings.Contains(page, "<script>alert") {
		t.Fatalf("message page must show the mail escaped: %d\n%s", code, page)
	}
	for _, bad := range []string{"/dev/outbox/..%2f..%2fetc%2fpasswd", "/dev/outbox/nothing.eml", "/dev/outbox/.hidden.eml"} {
		if code, _ := get(bad); code != 404 {
			t.Errorf("%s: %d, want 404", bad, code)
		}
	}
}
