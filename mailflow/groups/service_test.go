package groups_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func ptr[T any](v T) *T { return &v }

func newUser(t *testing.T, st *store.Store, email string, perms ...mailflow.Permission) *mailflow.User {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: email, Name: email})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetPermissions(ctx, u.ID, perms); err != nil {
		t.Fatal(err)
	}
	if u, err = st.UserByID(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	return &u
}

// Every problem of a change is reported, in field order, before anything
// is saved; a setting the actor may not change is ErrForbidden.
func TestCreateChecksEverySetting(t *testing.T) {
	st := storetest.New(t)
	svc := groups.New(st, picture.NewGallery(st, nil, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	maker := newUser(t, st, "maker@example.org", mailflow.PermCreateGroups)

	_, err := svc.Create(ctx, maker, groups.Change{Slug: ptr("Bad Slug"), Settings: groups.Settings{
		Name: ptr(""), Category: ptr("nope"), JoinPolicy: ptr("sometimes"), TrustPosts: ptr(101), Official: ptr(true),
	}})
	var p groups.Problems
	if !errors.As(err, &p) {
		t.Fatalf("create with bad settings: %v, want Problems", err)
	}
	var fields []string
	for _, e := range p {
		fields = append(fields, mailflow.FieldOf(e))
	}
	want := []string{"slug", "name", "category", "join_policy", "trust_posts", ""}
	if len(fields) != len(want) {
		t.Fatalf("problems %v (%v), want fields %v", fields, err, want)
	}
	for i := range want {
		if fields[i] != want[i] {
			t.Errorf("problem %d is about %q, want %q (%v)", i, fields[i], want[i], err)
		}
	}
	if !errors.Is(p[len(p)-1], mailflow.ErrForbidden) {
		t.Errorf("setting official as a non-superuser: %v, want ErrForbidden", p[len(p)-1])
	}
	if n, _ := st.ListGroups(ctx, maker.ID, true, 10, 0); len(n) != 0 {
		t.Errorf("a refused change saved %d groups", len(n))
	}

	nobody := newUser(t, st, "nobody@example.org")
	if _, err := svc.Create(ctx, nobody, groups.Change{Slug: ptr("x"), Settings: groups.Settings{Name: ptr("X")}}); !errors.Is(err, mailflow.ErrForbidden) {
		t.Errorf("create without the permission: %v, want ErrForbidden", err)
	}
}

// An update changes only what it names, keeps the slug, and is refused
// to members who do not own the group.
func TestUpdate(t *testing.T) {
	st := storetest.New(t)
	svc := groups.New(st, picture.NewGallery(st, nil, slog.New(slog.DiscardHandler)), slog.New(slog.DiscardHandler))
	ctx := context.Background()
	owner := newUser(t, st, "owner@example.org", mailflow.PermCreateGroups)
	g, err := svc.Create(ctx, owner, groups.Change{Slug: ptr("patch"), Settings: groups.Settings{
		Name: ptr("Patch"), ArchivePublic: ptr(true), TrustPosts: ptr(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if g.DMARCFailure != mailflow.DMARCHold || g.JoinPolicy != mailflow.JoinOpen || !g.ArchivePublic || g.TrustPosts != 5 {
		t.Fatalf("created: %+v", g)
	}
	m, err := st.Membership(ctx, g.ID, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Update(ctx, owner, g, m, groups.Change{Slug: ptr("other")}); mailflow.FieldOf(err) != "slug" {
		t.Errorf("changing the slug: %v, want a slug problem", err)
	}
	g2, err := svc.Update(ctx, owner, g, m, groups.Change{Settings: groups.Settings{Moderated: ptr(true)}})
	if err != nil || !g2.Moderated || !g2.ArchivePublic || g2.TrustPosts != 5 || g2.Name != "Patch" {
		t.Errorf("update of one setting: %+v, %v", g2, err)
	}
	stranger := newUser(t, st, "stranger@example.org")
	if _, err := svc.Update(ctx, stranger, g, nil, groups.Change{Settings: groups.Settings{Name: ptr("Mine")}}); err == nil {
		t.Error("a stranger updated the group")
	}
}
