package posting_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestPostingPrivateThread(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	var hooked []int64 // threads whose messages the hook saw, private already
	svc := posting.New(st, "lists.test", slog.New(slog.DiscardHandler), posting.Hooks{Accept: []posting.Hook{
		func(ctx context.Context, tx *store.Store, _ mailflow.Group, th mailflow.Thread, _ mailflow.Message) error {
			wt, err := tx.ThreadWithPrivacy(ctx, th.ID)
			if err == nil && wt.PrivateMemberID != nil {
				hooked = append(hooked, th.ID)
			}
			return err
		}}})
	mk := func(email string) *mailflow.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: email, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		return &u
	}
	owner, ann, bob := mk("owner@example.org"), mk("ann@example.org"), mk("bob@example.org")
	g, err := st.CreateGroup(ctx, mailflow.Group{Slug: "owls", Name: "Owls", JoinPolicy: mailflow.JoinOpen, Listed: true, Moderated: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mailflow.User{ann, bob} {
		if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: u.ID, Status: mailflow.MemberActive}); err != nil {
			t.Fatal(err)
		}
	}

	// Ordinary posts keep the group's policy: held in a moderated group.
	acc, err := svc.Accept(ctx, posting.Submission{Author: ann, GroupID: g.ID, Subject: "Hello", Body: "hi", Source: mailflow.SourceWeb})
	if err != nil || acc.Message.Status != mailflow.MessageHeld {
		t.Fatalf("ordinary post: %v, %+v; want held", err, acc.Message)
	}

	acc, err = svc.Accept(ctx, posting.Submission{Author: ann, GroupID: g.ID, PrivateMemberID: ann.ID, Subject: "A word",
		Body: "just the owners", Source: mailflow.SourceWeb})
	if err != nil || acc.Message.Status != mailflow.MessageApproved {
		t.Fatalf("private post: %v, %+v; want approved", err, acc.Message)
	}
	private := acc.Thread.ID
	if len(hooked) != 1 || hooked[0] != private {
		t.Fatalf("the hooks ran before the thread was private: %v", hooked)
	}

	if _, err := svc.Accept(ctx, posting.Submission{Author: bob, ThreadID: private, Body: "me too", Source: mailflow.SourceAPI}); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("another member replying to a private thread: %v, want ErrNotFound", err)
	}
	if _, err := svc.Accept(ctx, posting.Submission{FromEmail: "x@example.net", ThreadID: private, Body: "spam", Source: mailflow.SourceEmail}); !errors.Is(err, mailflow.ErrNotMember) {
		t.Fatalf("mail from no account into a private thread: %v, want ErrNotMember", err)
	}
	if _, err := svc.Accept(ctx, posting.Submission{Author: bob, GroupID: g.ID, PrivateMemberID: ann.ID, Subject: "x", Body: "x", Source: mailflow.SourceWeb}); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("a private thread for someone else: %v, want ErrNotFound", err)
	}
	acc, err = svc.Accept(ctx, posting.Submission{Author: owner, ThreadID: private, Body: "thanks", Source: mailflow.SourceWeb})
	if err != nil || acc.Message.Status != mailflow.MessageApproved || acc.Message.Subject != "Re: A word" {
		t.Fatalf("owner's reply: %v, %+v", err, acc.Message)
	}
	acc, err = svc.Accept(ctx, posting.Submission{Author: ann, ThreadID: private, Body: "and again", Source: mailflow.SourceWeb})
	if err != nil || acc.Message.Status != mailflow.MessageApproved {
		t.Fatalf("member's reply: %v, %+v", err, acc.Message)
	}
	wt, err := st.ThreadWithPrivacy(ctx, private)
	if err != nil || wt.PrivateMemberID == nil || *wt.PrivateMemberID != ann.ID || wt.MessageCount != 3 {
		t.Fatalf("private thread: %+v, %v", wt, err)
	}
}

// An unauthenticated From borrows no privilege: a moderator, a
// whitelisted member, a member past the first-posts rule and a superuser
// from outside are each held by email unless their From is authenticated,
// and posted from the web. DMARC failures are held or refused as the
// group says.
func TestPostingSenderAuthentication(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	svc := posting.New(st, "lists.test", slog.New(slog.DiscardHandler), posting.Hooks{})
	mk := func(email string, super bool) *mailflow.User {
		u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: email, Verified: true, Superuser: super})
		if err != nil {
			t.Fatal(err)
		}
		return &u
	}
	owner, mod, wl, old, admin := mk("owner@example.org", false), mk("mod@example.org", false), mk("wl@example.org", false),
		mk("old@example.org", false), mk("admin@example.org", true)
	group := func(slug string, moderated bool, trust int) mailflow.Group {
		g, err := st.CreateGroup(ctx, mailflow.Group{Slug: slug, Name: slug, JoinPolicy: mailflow.JoinOpen, Listed: true, Moderated: moderated,
			TrustPosts: trust, MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []mailflow.Membership{{UserID: mod.ID, Role: mailflow.RoleModerator}, {UserID: wl.ID}, {UserID: old.ID}} {
			m.GroupID, m.Status = g.ID, mailflow.MemberActive
			if _, _, err := st.SetMembership(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetWhitelist(ctx, g.ID, []int64{wl.ID}); err != nil {
			t.Fatal(err)
		}
		return g
	}
	moderated, trusting := group("moderated", true, 0), group("trusting", false, 1)
	if _, err := svc.Accept(ctx, posting.Submission{Author: old, GroupID: trusting.ID, Subject: "first", Body: "x", Source: mailflow.SourceWeb}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetMessageStatus(ctx, 1, mailflow.MessageApproved); err != nil { // old is past the first-posts rule now
		t.Fatal(err)
	}
	forged := &mailflow.SenderAuth{Summary: "From not authenticated: SPF fail, no DKIM"}
	verified := &mailflow.SenderAuth{Authenticated: true, Summary: "sender verified by DKIM example.org"}
	for _, tc := range []struct {
		name   string
		author *mailflow.User
		g      mailflow.Group
	}{
		{"moderator", mod, moderated}, {"owner", owner, moderated}, {"whitelisted", wl, moderated},
		{"trusted after first posts", old, trusting}, {"superuser from outside", admin, moderated},
	} {
		for _, c := range []struct {
			sender *mailflow.SenderAuth
			want   mailflow.MessageStatus
		}{{forged, mailflow.MessageHeld}, {verified, mailflow.MessageApproved}, {nil, mailflow.MessageApproved}} {
			acc, err := svc.Accept(ctx, posting.Submission{Author: tc.author, GroupID: tc.g.ID, Subject: tc.name, Body: "x",
				Source: mailflow.SourceEmail, Sender: c.sender})
			if err != nil || acc.Message.Status != c.want {
				t.Errorf("%s, sender %+v: %v %s, want %s", tc.name, c.sender, err, acc.Message.Status, c.want)
			}
		}
	}

	dmarcFail := &mailflow.SenderAuth{DMARCFailed: true, Summary: "From not authenticated: SPF fail, no DKIM; example.org publishes DMARC p=reject"}
	plain := group("plain", false, 0)
	acc, err := svc.Accept(ctx, posting.Submission{Author: old, GroupID: plain.ID, Subject: "s", Body: "x", Source: mailflow.SourceEmail, Sender: dmarcFail})
	if err != nil || acc.Message.Status != mailflow.MessageHeld || acc.Message.SenderAuth != dmarcFail.Summary {
		t.Fatalf("DMARC failure, default: %v %+v", err, acc.Message)
	}
	plain.DMARCFailure = mailflow.DMARCRefuse
	if _, err := st.UpdateGroup(ctx, plain); err != nil {
		t.Fatal(err)
	}
	var ue *posting.UnauthenticatedError
	if _, err := svc.Accept(ctx, posting.Submission{Author: old, GroupID: plain.ID, Subject: "s", Body: "x", Source: mailflow.SourceEmail, Sender: dmarcFail}); !errors.As(err, &ue) {
		t.Fatalf("DMARC failure, refusing group: %v", err)
	}
	// An unauthenticated but not DMARC-failing member in an unmoderated
	// group posts: membership alone is no borrowed privilege.
	if acc, err := svc.Accept(ctx, posting.Submission{Author: old, GroupID: plain.ID, Subject: "s", Body: "x", Source: mailflow.SourceEmail, Sender: forged}); err != nil || acc.Message.Status != mailflow.MessageApproved {
		t.Fatalf("plain member, unauthenticated: %v %+v", err, acc.Message)
	}
}
