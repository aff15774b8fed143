package webhooks_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/mailtest"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/webhooks"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const mailgunKey = "key-test-mailgun-signing"

func newServer(t *testing.T) (*httptest.Server, *store.Store) {
	st := storetest.New(t)
	return newServerOn(t, st, slog.New(slog.DiscardHandler)), st
}

// newServerOn serves the webhooks on st, as one daemon of several would.
func newServerOn(t *testing.T, st *store.Store, log *slog.Logger) *httptest.Server {
	origin, _ := url.Parse("http://localhost")
	links, err := urls.New(origin, sign.Keys{Current: strings.Repeat("k", 40)})
	if err != nil {
		t.Fatal(err)
	}
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	svc := &bounce.Service{Store: st, Keys: sign.Keys{Current: strings.Repeat("k", 40)}, URLs: links,
		Notices: notices, Settings: bounce.DefaultSettings(), Log: log}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if err := webhooks.Register(r, webhooks.Deps{Bounces: svc, Settings: map[string]string{"POSTMARK_WEBHOOK_USER": "pm", "POSTMARK_WEBHOOK_PASSWORD": "pm-secret", "MAILGUN_SIGNING_KEY": mailgunKey}, Log: log}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv
}

func mailgunBody(token, event, severity, email, id string, ts time.Time) string {
	stamp := fmt.Sprint(ts.Unix())
	mac := hmac.New(sha256.New, []byte(mailgunKey))
	mac.Write([]byte(stamp + token))
	return fmt.Sprintf(`{"signature":{"timestamp":%q,"token":%q,"signature":%q},
		"event-data":{"event":%q,"severity":%q,"recipient":%q,"id":%q,"timestamp":%d,
		"delivery-status":{"code":550,"enhanced-code":"5.1.1","message":"no such user"}}}`,
		stamp, token, hex.EncodeToString(mac.Sum(nil)), event, severity, email, id, ts.Unix())
}

func post(t *testing.T, url, body string, hdr ...string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestMailgun(t *testing.T) {
	srv, st := newServer(t)
	ctx := context.Background()
	u := srv.URL + "/mail/webhooks/mailgun"
	now := time.Now()
	good := mailgunBody("tok-1", "failed", "permanent", "Gone@Example.org", "ev-1", now)
	if code := post(t, u, good); code != 200 {
		t.Fatalf("valid event: %d", code)
	}
	sc, _ := st.BounceScoreOf(ctx, "gone@example.org")
	if sc.Score != 1 {
		t.Fatalf("score %.1f after a hard bounce, want 1", sc.Score)
	}
	// Replayed token, forged signature, stale timestamp: 401, nothing changes.
	// (Mailgun signs the timestamp and token, not the event: a forgery is
	// a signature made without the key.)
	forged := mailgunBody("tok-2", "failed", "permanent", "victim@example.org", "ev-2", now)
	i := strings.Index(forged, `"signature":"`) + len(`"signature":"`)
	forged = forged[:i] + strings.Repeat("0", 64) + forged[i+64:]
	for name, body := range map[string]string{
		"replay": good,
		"forged": forged,
		"stale":  mailgunBody("tok-3", "failed", "permanent", "x@example.org", "ev-3", now.Add(-time.Hour)),
	} {
		if code := post(t, u, body); code != 401 {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	if ev, _ := st.BounceEvents(ctx, "victim@example.org", 10); len(ev) != 0 {
		t.Fatal("a forged event was recorded")
	}
	// The same event (same id) under a fresh signature counts once.
	if code := post(t, u, mailgunBody("tok-4", "failed", "permanent", "gone@example.org", "ev-1", now)); code != 200 {
		t.Fatalf("redelivered event: %d", code)
	}
	if ev, _ := st.BounceEvents(ctx, "gone@example.org", 10); len(ev) != 1 {
		t.Fatalf("the same event twice: %d records, want 1", len(ev))
	}
	// A complaint suppresses at once.
	if code := post(t, u, mailgunBody("tok-5", "complained", "", "angry@example.org", "ev-5", now)); code != 200 {
		t.Fatalf("complaint: %d", code)
	}
	if why, _ := st.Suppression(ctx, "angry@example.org"); why != "complaint" {
		t.Fatalf("complaint: suppression %q", why)
	}
	// Malformed and oversized bodies.
	if code := post(t, u, "{not json"); code != 400 {
		t.Errorf("malformed: %d, want 400", code)
	}
	if code := post(t, u, `{"x":"`+strings.Repeat("a", 2<<20)+`"}`); code != 413 {
		t.Errorf("oversized: %d, want 413", code)
	}
}

func TestPostmarkAuthAndDisabledEndpoints(t *testing.T) {
	srv, st := newServer(t)
	u := srv.URL + "/mail/webhooks/postmark"
	body := `{"RecordType":"Bounce","ID":42,"Type":"HardBounce","Email":"pm@example.org","Details":"smtp;550 5.1.1 unknown","BouncedAt":"2026-11-01T10:00:00Z"}`
	if code := post(t, u, body); code != 401 {
		t.Fatalf("no auth: %d", code)
	}
	bad := "Basic " + base64.StdEncoding.EncodeToString([]byte("pm:wrong"))
	if code := post(t, u, body, "Authorization", bad); code != 401 {
		t.Fatalf("bad auth: %d", code)
	}
	good := "Basic " + base64.StdEncoding.EncodeToString([]byte("pm:pm-secret"))
	if code := post(t, u, body, "Authorization", good); code != 200 {
		t.Fatalf("good auth: %d", code)
	}
	if sc, _ := st.BounceScoreOf(context.Background(), "pm@example.org"); sc.Score != 1 {
		t.Fatalf("score %.1f", sc.Score)
	}
	// Providers that are not configured answer 404.
	for _, p := range []string{"ses", "sendgrid"} {
		if code := post(t, srv.URL+"/mail/webhooks/"+p, "{}"); code != 404 {
			t.Errorf("%s unconfigured: %d, want 404", p, code)
		}
	}
}

// A Mailgun call captured and replayed against another daemon on the same
// database (or the same one after a restart) is refused: the used tokens
// live in PostgreSQL. Forgeries are answered 401 and logged at most once
// per interval, never at ERROR.
func TestMailgunReplayElsewhereAndQuietRefusals(t *testing.T) {
	st := storetest.New(t)
	var logBuf mailtest.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	first, second := newServerOn(t, st, log), newServerOn(t, st, log)
	good := mailgunBody("tok-shared", "failed", "permanent", "gone@example.org", "ev-shared", time.Now())
	if code := post(t, first.URL+"/mail/webhooks/mailgun", good); code != 200 {
		t.Fatalf("valid event: %d", code)
	}
	// The replay carries forged event data under the captured signature.
	replay := strings.Replace(good, "gone@example.org", "victim@example.org", 1)
	if code := post(t, second.URL+"/mail/webhooks/mailgun", replay); code != 401 {
		t.Fatalf("replay on another daemon: %d, want 401", code)
	}
	if ev, _ := st.BounceEvents(context.Background(), "victim@example.org", 10); len(ev) != 0 {
		t.Fatal("the replayed event was recorded")
	}
	for range 30 {
		if code := post(t, second.URL+"/mail/webhooks/mailgun", replay); code != 401 {
			t.Fatalf("replay: %d, want 401", code)
		}
	}
	out := logBuf.String()
	if n := strings.Count(out, "level=WARN"); n > 1 {
		t.Errorf("31 refusals logged %d WARN lines, want at most 1:\n%s", n, out)
	}
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("a refusal logged an ERROR:\n%s", out)
	}
}
