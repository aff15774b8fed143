package bounce_test

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
)

// TestComplaintReturningADigest: a complaint that returns a digest (its
// X-Parley-Delivery d. token, or only its List-Unsubscribe link)
// suppresses the digest's member; the same complaint with the token of a
// digest that does not exist changes nothing and says why.
func TestComplaintReturningADigest(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	keys := sign.Keys{Current: strings.Repeat("k", 40)}
	origin, _ := url.Parse("http://localhost")
	links, err := urls.New(origin, keys)
	if err != nil {
		t.Fatal(err)
	}
	notices, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	svc := &bounce.Service{Store: st, Keys: keys, URLs: links, Notices: notices, Settings: bounce.DefaultSettings(), Log: log}
	users := map[string]int64{}
	for _, e := range []string{"d@example.org", "u@example.org"} {
		u, err := st.CreateUser(ctx, store.NewUser{Email: e, Name: "D", Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		users[e] = u.ID
	}
	var digestID int64
	if err := st.Pool().QueryRow(ctx, `INSERT INTO digests (user_id, period, period_key, due_at, state) VALUES ($1, 'daily', '2026-11-02', now(), 'sent') RETURNING id`,
		users["d@example.org"]).Scan(&digestID); err != nil {
		t.Fatal(err)
	}
	complaint := func(returned string) []byte {
		return []byte("From: fbl@isp.example\nTo: no-reply@lists.test\nSubject: complaint\nMIME-Version: 1.0\n" +
			"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\n\n--b\nContent-Type: text/plain\n\nspam\n\n" +
			"--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: t/1\nVersion: 1\n\n" +
			"--b\nContent-Type: text/rfc822-headers\n\nFrom: Parley <no-reply@lists.test>\nSubject: Daily digest\n" + returned + "\n--b--\n")
	}
	cases := []struct {
		name, returned, suppressed, why string
	}{
		{"a digest that does not exist", "X-Parley-Delivery: " + keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: digestID + 1000}) + "\n", "", "does not exist"},
		{"the digest's delivery header", "X-Parley-Delivery: " + keys.DeliveryHeader(sign.Sent{Kind: sign.SentDigest, ID: digestID}) + "\n", "d@example.org", ""},
		{"the digest's List-Unsubscribe only", "List-Unsubscribe: <http://localhost/u/" +
			keys.Token(sign.Link{Purpose: sign.PurposeUnsubscribe, UserID: users["u@example.org"], Value: "digest"}) + ">\n", "u@example.org", ""},
	}
	want := map[string]bool{} // suppressed so far
	for _, c := range cases {
		want[c.suppressed] = true
		in := store.Inbound{Transport: "smtp", RcptTo: []string{"no-reply@lists.test"}, Raw: complaint(c.returned)}
		if in.ID, _, err = st.InsertInbound(ctx, in, store.BytesBody(in.Raw), nil); err != nil {
			t.Fatal(err)
		}
		out, err := svc.FromMail(ctx, in, "")
		if err != nil {
			t.Fatal(err)
		}
		for e := range users {
			why, _ := st.Suppression(ctx, e)
			if (why == "complaint") != want[e] {
				t.Errorf("%s: %s suppressed %q (outcome %q)", c.name, e, why, out)
			}
		}
		if c.why != "" && !strings.Contains(out, c.why) {
			t.Errorf("%s: outcome %q, want it to say %q", c.name, out, c.why)
		}
	}
}
