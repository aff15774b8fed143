package store_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestUsers(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)

	u, err := st.CreateUser(ctx, store.NewUser{Email: "Ada@Example.org", Name: "Ada", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if !u.Verified() || u.DefaultDelivery != mailflow.DeliveryImmediate || u.Status != mailflow.UserActive {
		t.Fatalf("new user has unexpected defaults: %+v", u)
	}
	got, err := st.UserByEmail(ctx, "ada@EXAMPLE.org")
	if err != nil || got.ID != u.ID {
		t.Fatalf("lookup in another case: %v, %+v", err, got)
	}

	_, err = st.CreateUser(ctx, store.NewUser{Email: "ada@example.ORG", Name: "Other Ada"})
	if !errors.Is(err, mailflow.ErrDuplicate) || mailflow.FieldOf(err) != "email" {
		t.Fatalf("duplicate address in another case: got %v (field %q), want ErrDuplicate on email", err, mailflow.FieldOf(err))
	}
	_, err = st.CreateUser(ctx, store.NewUser{Email: "no-at-sign", Name: "X"})
	if !errors.Is(err, mailflow.ErrInvalid) || mailflow.FieldOf(err) != "email" {
		t.Fatalf("invalid address: got %v, want ErrInvalid on email", err)
	}
	_, err = st.CreateUser(ctx, store.NewUser{Email: "x@example.org", Name: ""})
	if !errors.Is(err, mailflow.ErrInvalid) || mailflow.FieldOf(err) != "name" {
		t.Fatalf("empty name: got %v, want ErrInvalid on name", err)
	}
	if _, err := st.UserByEmail(ctx, "nobody@example.org"); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("unknown user: got %v, want ErrNotFound", err)
	}

	p, changed, err := st.PromoteSuperuser(ctx, "ADA@example.org")
	if err != nil || !changed || !p.IsSuperuser || !p.IsStaff {
		t.Fatalf("promote: %v changed=%v %+v", err, changed, p)
	}
	if _, changed, err = st.PromoteSuperuser(ctx, "ada@example.org"); err != nil || changed {
		t.Fatalf("second promote should change nothing: %v changed=%v", err, changed)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	u, err := st.CreateUser(ctx, store.NewUser{Email: "t@example.org", Name: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateToken(ctx, u.ID, "cli", []byte("hash-1")); err != nil {
		t.Fatal(err)
	}
	got, err := st.UserByTokenHash(ctx, []byte("hash-1"))
	if err != nil || got.ID != u.ID {
		t.Fatalf("token lookup: %v %+v", err, got)
	}
	// Twice within a minute: the second lookup must still find the user.
	if got, err = st.UserByTokenHash(ctx, []byte("hash-1")); err != nil || got.ID != u.ID {
		t.Fatalf("second token lookup: %v", err)
	}
	if _, err := st.UserByTokenHash(ctx, []byte("hash-2")); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("unknown token: got %v, want ErrNotFound", err)
	}
	if err := st.CreateToken(ctx, u.ID, "again", []byte("hash-1")); !errors.Is(err, mailflow.ErrDuplicate) {
		t.Fatalf("same hash twice: got %v, want ErrDuplicate", err)
	}
}

func newGroup(t *testing.T, st *store.Store, owner mailflow.User, slug string) mailflow.Group {
	t.Helper()
	g, err := st.CreateGroup(context.Background(), mailflow.Group{
		Slug: slug, Name: "Group " + slug, JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup,
	}, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGroupsAndMemberships(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "owner@example.org", Name: "Owner"})
	member, _ := st.CreateUser(ctx, store.NewUser{Email: "member@example.org", Name: "Member"})

	g := newGroup(t, st, owner, "garden")
	m, err := st.Membership(ctx, g.ID, owner.ID)
	if err != nil || m == nil || m.Role != mailflow.RoleOwner || !m.Active() {
		t.Fatalf("creator should be the active owner: %v %+v", err, m)
	}
	if _, err := st.CreateGroup(ctx, mailflow.Group{Slug: "garden", Name: "Again", JoinPolicy: mailflow.JoinOpen,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID); !errors.Is(err, mailflow.ErrDuplicate) || mailflow.FieldOf(err) != "slug" {
		t.Fatalf("duplicate slug: got %v (field %q)", err, mailflow.FieldOf(err))
	}
	if _, err := st.CreateGroup(ctx, mailflow.Group{Slug: "bad", Name: "Bad", JoinPolicy: "whoever",
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup}, owner.ID); !errors.Is(err, mailflow.ErrInvalid) || mailflow.FieldOf(err) != "join_policy" {
		t.Fatalf("bad join policy: got %v (field %q)", err, mailflow.FieldOf(err))
	}

	nm, created, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: member.ID, Status: mailflow.MemberActive})
	if err != nil || !created || nm.Role != mailflow.RoleMember || nm.Delivery != mailflow.DeliveryImmediate {
		t.Fatalf("join: %v created=%v %+v", err, created, nm)
	}
	nm, created, err = st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: member.ID, Delivery: mailflow.DeliveryDigest, Status: mailflow.MemberActive})
	if err != nil || created || nm.Delivery != mailflow.DeliveryDigest || nm.Role != mailflow.RoleMember {
		t.Fatalf("update delivery keeps the role: %v created=%v %+v", err, created, nm)
	}

	// The last owner can neither leave nor be demoted.
	if err := st.DeleteMembership(ctx, g.ID, owner.ID); !errors.Is(err, mailflow.ErrConflict) {
		t.Fatalf("removing the last owner: got %v, want ErrConflict", err)
	}
	if _, _, err := st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: owner.ID, Role: mailflow.RoleMember, Status: mailflow.MemberActive}); !errors.Is(err, mailflow.ErrConflict) {
		t.Fatalf("demoting the last owner: got %v, want ErrConflict", err)
	}
	if m, _ := st.Membership(ctx, g.ID, owner.ID); m == nil || m.Role != mailflow.RoleOwner {
		t.Fatal("a refused demotion must leave the owner in place")
	}

	members, err := st.ListMembers(ctx, g.ID)
	if err != nil || len(members) != 2 || members[0].Email != "owner@example.org" {
		t.Fatalf("members, owners first: %v %+v", err, members)
	}

	if err := st.DeleteMembership(ctx, g.ID, member.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteMembership(ctx, g.ID, member.ID); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("deleting twice: got %v, want ErrNotFound", err)
	}

	hidden, _ := st.CreateGroup(ctx, mailflow.Group{Slug: "hidden", Name: "Hidden", JoinPolicy: mailflow.JoinInvite,
		MemberListVisibility: mailflow.VisibleToOwners, ReplyTo: mailflow.ReplyToGroup}, owner.ID)
	list, err := st.ListGroups(ctx, member.ID, false, 50, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range list {
		if l.ID == hidden.ID {
			t.Fatal("an unlisted group shows in a non-member's list")
		}
	}
	list, _ = st.ListGroups(ctx, owner.ID, false, 50, 0)
	if len(list) != 2 {
		t.Fatalf("the owner should see both groups, got %d", len(list))
	}
}

func TestMessages(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	owner, _ := st.CreateUser(ctx, store.NewUser{Email: "o@example.org", Name: "O"})
	g := newGroup(t, st, owner, "book-club")
	th, err := st.CreateThread(ctx, g.ID, "Hello", &owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	msg := mailflow.Message{ThreadID: th.ID, GroupID: g.ID, AuthorID: &owner.ID, MessageID: "a@x", Subject: "Hello",
		Body: "Hi", Source: mailflow.SourceAPI, Status: mailflow.MessageApproved}
	if _, err := st.InsertMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertMessage(ctx, msg); !errors.Is(err, mailflow.ErrDuplicate) || mailflow.FieldOf(err) != "message_id" {
		t.Fatalf("same Message-ID twice: got %v", err)
	}
	msg.MessageID, msg.Status = "b@x", "published"
	if _, err := st.InsertMessage(ctx, msg); !errors.Is(err, mailflow.ErrInvalid) {
		t.Fatalf("bad status: got %v, want ErrInvalid", err)
	}
	msg.Status, msg.ThreadID = mailflow.MessageApproved, 999999
	if _, err := st.InsertMessage(ctx, msg); !errors.Is(err, mailflow.ErrNotFound) {
		t.Fatalf("unknown thread: got %v, want ErrNotFound", err)
	}
	th, _ = st.ThreadByID(ctx, th.ID)
	if th.MessageCount != 1 {
		t.Fatalf("thread count = %d, want 1", th.MessageCount)
	}
}
