package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

func resourceNames(t *testing.T, st *store.Store, q store.ResourceQuery) []string {
	t.Helper()
	list, err := st.ListResources(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list {
		out = append(out, r.Name)
	}
	slices.Sort(out)
	return out
}

func TestResourceStoreSearchAndVisibility(t *testing.T) {
	ctx := context.Background()
	f := newThreadsFixture(t, "shelf")
	st := f.st
	add := func(name string, kind mailflow.ResourceKind, hash byte, tags string, text string, msg *int64, by mailflow.User) mailflow.Resource {
		t.Helper()
		tt, err := mailflow.ParseTags(tags)
		if err != nil {
			t.Fatal(err)
		}
		h := strings.Repeat(string("0123456789abcdef"[hash%16]), 64)
		r, _, created, err := st.CreateResource(ctx, store.NewResource{GroupID: f.g.ID, UploaderID: &by.ID, MessageID: msg, Name: name,
			Filename: strings.ToLower(name) + ".bin", ContentType: "application/pdf", Kind: kind, Size: 10, ContentHash: h,
			BlobKey: "sha256/" + h[:2] + "/" + h, ContentText: text, Tags: tt})
		if err != nil || !created {
			t.Fatalf("create %s: %v %v", name, created, err)
		}
		return r
	}
	minutes := add("Board minutes", mailflow.KindPDF, 1, "Budget, minutes", "", nil, f.ann)
	add("Garden plan", mailflow.KindImage, 2, "garden", "", nil, f.ann)
	add("Notes", mailflow.KindText, 3, "", "The heron nests by the weir", nil, f.bob)

	th, err := st.CreateThread(ctx, f.g.ID, "Files", &f.bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	held := f.post(t, th, f.bob, mailflow.MessageHeld, "see attached")
	add("Held attachment", mailflow.KindText, 4, "email", "", &held.ID, f.bob)

	ann := store.ResourceViewerOf(&f.ann)
	all := []string{"Board minutes", "Garden plan", "Notes"}
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: ann}); !slices.Equal(got, all) {
		t.Errorf("ann sees %v, want %v (not the held message's file)", got, all)
	}
	bob := store.ResourceViewerOf(&f.bob)
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: bob}); len(got) != 4 {
		t.Errorf("bob, the held message's author, sees %v", got)
	}
	owner := store.ResourceViewerOf(&f.owner)
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: owner, GroupID: &f.g.ID}); len(got) != 4 {
		t.Errorf("the owner sees %v", got)
	}
	stranger, err := st.CreateUser(ctx, store.NewUser{Email: "stranger@shelf.example", Name: "Stranger", Verified: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: store.ResourceViewerOf(&stranger), GroupID: &f.g.ID}); len(got) != 0 {
		t.Errorf("a non-member sees %v", got)
	}

	for _, c := range []struct {
		name string
		q    store.ResourceQuery
		want []string
	}{
		{"tag word", store.ResourceQuery{Keyword: "budget"}, []string{"Board minutes"}},
		{"tag prefix", store.ResourceQuery{Keyword: "budg"}, []string{"Board minutes"}},
		{"tag slug", store.ResourceQuery{TagSlug: "garden"}, []string{"Garden plan"}},
		{"text", store.ResourceQuery{Keyword: "herons"}, []string{"Notes"}},
		{"part of a name", store.ResourceQuery{Keyword: "oard"}, []string{"Board minutes"}},
		{"kind", store.ResourceQuery{Kind: mailflow.KindImage}, []string{"Garden plan"}},
		{"kind and word", store.ResourceQuery{Kind: mailflow.KindImage, Keyword: "budget"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.q.Viewer = ann
			if got := resourceNames(t, st, c.q); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}

	// Renaming a tag changes what finds its resources; deleting it takes
	// it off them.
	r, err := st.ResourceByID(ctx, minutes.ID)
	if err != nil || len(r.Tags) != 2 {
		t.Fatalf("ResourceByID: %v %+v", err, r.Tags)
	}
	budget := r.Tags[0]
	budget.Name, budget.Slug = "Finances", "finances"
	if _, err := st.UpdateTag(ctx, budget); err != nil {
		t.Fatal(err)
	}
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: ann, Keyword: "finances"}); !slices.Equal(got, []string{"Board minutes"}) {
		t.Errorf("after the rename: %v", got)
	}
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: ann, Keyword: "budget"}); len(got) != 0 {
		t.Errorf("the old tag name still finds %v", got)
	}
	gone, err := st.DeleteTags(ctx, []int64{budget.ID})
	if err != nil || len(gone) != 1 || gone[0].Resources != 1 {
		t.Fatalf("DeleteTags: %v %+v", err, gone)
	}
	if r, _ := st.ResourceByID(ctx, minutes.ID); len(r.Tags) != 1 || r.Tags[0].Slug != "minutes" {
		t.Errorf("tags after the delete: %+v", r.Tags)
	}
	if got := resourceNames(t, st, store.ResourceQuery{Viewer: ann, Keyword: "finances"}); len(got) != 0 {
		t.Errorf("a deleted tag still finds %v", got)
	}

	// Tags typed again are found by name, whatever the case.
	tags, _ := mailflow.ParseTags("MINUTES, new one")
	created, err := st.UpdateResource(ctx, minutes.ID, store.ResourceChange{Name: "Minutes", GroupID: f.g.ID, Tags: tags})
	if err != nil || len(created) != 1 || created[0].Slug != "new-one" {
		t.Fatalf("UpdateResource: %v, created %+v", err, created)
	}

	// An attachment is recorded once per message.
	h := strings.Repeat("4", 64)
	if _, _, again, err := st.CreateResource(ctx, store.NewResource{GroupID: f.g.ID, MessageID: &held.ID, Name: "x",
		Filename: "held attachment.bin", ContentType: "text/plain", Kind: mailflow.KindText, ContentHash: h,
		BlobKey: "sha256/44/" + h}); err != nil || again {
		t.Fatalf("the same attachment again: created %v, %v", again, err)
	}
	files, err := st.MessageAttachments(ctx, []int64{held.ID})
	if err != nil || len(files[held.ID]) != 1 {
		t.Fatalf("MessageAttachments: %v %+v", err, files)
	}
	if n, err := st.ContentUsers(ctx, h); err != nil || n != 1 {
		t.Fatalf("ContentUsers: %d %v", n, err)
	}
	if _, err := st.DeleteResource(ctx, files[held.ID][0].ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.ContentUsers(ctx, h); n != 0 {
		t.Fatalf("ContentUsers after the delete: %d", n)
	}
}
