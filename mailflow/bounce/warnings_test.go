package bounce_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/bounce"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
	"github.com/parleymail/parley/mailflow/urls"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestDisabledAddressNoticesThenRemoval: after delivery stops, the
// address gets BOUNCE_DISABLE_WARNINGS notices a week apart, then leaves
// its groups (but stays owner of a group it alone owns).
func TestDisabledAddressNoticesThenRemoval(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	log := slog.New(slog.DiscardHandler)
	origin, _ := url.Parse("http://localhost")
	links, err := urls.New(origin, sign.Keys{Current: strings.Repeat("k", 40)})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	renderer, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	svc := &bounce.Service{Store: st, Keys: sign.Keys{Current: strings.Repeat("k", 40)}, URLs: links, Notices: renderer,
		Settings: bounce.DefaultSettings(), Log: log, Now: func() time.Time { return now }}
	x, _ := st.CreateUser(ctx, store.NewUser{Email: "x@example.org", Name: "X", Verified: true})
	other, _ := st.CreateUser(ctx, store.NewUser{Email: "o@example.org", Name: "O", Verified: true})
	mk := func(slug string, owner mailflow.User) mailflow.Group {
		g, err := st.CreateGroup(ctx, mailflow.Group{Slug: slug, Name: slug, JoinPolicy: mailflow.JoinOpen, Listed: true,
			MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	member := mk("member-of", other)
	own := mk("owned", x)
	if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: member.ID, UserID: x.ID, Status: mailflow.MemberActive}); err != nil {
		t.Fatal(err)
	}
	for d := range 5 {
		now = now.Add(24 * time.Hour)
		if _, err := svc.Apply(ctx, bounce.Report{Provider: "dsn", Email: "x@example.org", Kind: bounce.KindHard, Scores: true, EventID: string(rune('a' + d))}); err != nil {
			t.Fatal(err)
		}
	}
	notices := func() int {
		var n int
		_ = st.Pool().QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'system_mail' AND args->>'to' = 'x@example.org'`).Scan(&n)
		return n
	}
	if n := notices(); n != 1 {
		t.Fatalf("notices when delivery stopped: %d, want 1", n)
	}
	w := &bounce.WarningsWorker{Service: svc}
	run := func() {
		if err := w.Work(ctx, &river.Job[bounce.WarningsArgs]{}); err != nil {
			t.Fatal(err)
		}
	}
	run() // too early: nothing
	if n := notices(); n != 1 {
		t.Fatalf("a notice went out before the interval: %d", n)
	}
	for i := 1; i <= 3; i++ {
		now = now.Add(7*24*time.Hour + time.Minute)
		run()
		if n := notices(); n != 1+i {
			t.Fatalf("after week %d: %d notices, want %d", i, n, 1+i)
		}
	}
	if m, _ := st.Membership(ctx, member.ID, x.ID); m == nil {
		t.Fatal("removed too early")
	}
	now = now.Add(7*24*time.Hour + time.Minute)
	run()
	if m, _ := st.Membership(ctx, member.ID, x.ID); m != nil {
		t.Fatal("after the last notice the address should have left its groups")
	}
	if m, _ := st.Membership(ctx, own.ID, x.ID); m == nil {
		t.Fatal("the last owner of a group must stay")
	}
}
