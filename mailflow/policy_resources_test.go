package mailflow

import (
	"errors"
	"testing"
)

func TestResourcePolicy(t *testing.T) {
	super := &User{ID: 1, Status: UserActive, IsSuperuser: true}
	adder := &User{ID: 2, Status: UserActive, Permissions: []Permission{PermAddResources}}
	plain := &User{ID: 3, Status: UserActive}
	owner := &User{ID: 4, Status: UserActive}
	banned := &User{ID: 5, Status: UserBanned, Permissions: []Permission{PermAddResources}}
	g := Group{ID: 9, Listed: true, JoinPolicy: JoinOpen}
	private := Group{ID: 10, JoinPolicy: JoinInvite}
	member := &Membership{Status: MemberActive, Role: RoleMember}
	owning := &Membership{Status: MemberActive, Role: RoleOwner}
	requested := &Membership{Status: MemberRequested, Role: RoleMember}

	upload := []struct {
		name string
		u    *User
		g    Group
		m    *Membership
		want error // nil, ErrNotFound or ErrForbidden
	}{
		{"superuser, no membership", super, private, nil, nil},
		{"add_resources member", adder, g, member, nil},
		{"add_resources non-member", adder, g, nil, ErrForbidden},
		{"add_resources non-member of a private group", adder, private, nil, ErrNotFound},
		{"plain member", plain, g, member, ErrForbidden},
		{"owner without the permission", owner, g, owning, nil},
		{"requested membership", adder, g, requested, ErrForbidden},
		{"banned account", banned, g, member, ErrNotFound},
		{"signed out", nil, g, nil, ErrNotFound},
	}
	for _, c := range upload {
		t.Run("upload/"+c.name, func(t *testing.T) {
			if err := CanUploadResource(c.u, c.g, c.m); !sameKind(err, c.want) {
				t.Fatalf("CanUploadResource = %v, want %v", err, c.want)
			}
		})
	}

	access := []struct {
		name string
		u    *User
		m    *Membership
		want error
	}{
		{"member", plain, member, nil},
		{"superuser", super, nil, nil},
		{"non-member of a public group", plain, nil, ErrNotFound},
		{"requested", plain, requested, ErrNotFound},
		{"banned account", banned, member, ErrNotFound},
	}
	for _, c := range access {
		t.Run("access/"+c.name, func(t *testing.T) {
			if err := CanAccessResources(c.u, c.m); !sameKind(err, c.want) {
				t.Fatalf("CanAccessResources = %v, want %v", err, c.want)
			}
		})
	}

	// A held message's attachment: its author and the moderators see it.
	authorID := plain.ID
	held := &AttachedTo{Message: Message{Status: MessageHeld, AuthorID: &authorID}}
	other := &User{ID: 6, Status: UserActive}
	if err := CanAccessResource(plain, member, held); err != nil {
		t.Errorf("the author of a held message: %v", err)
	}
	if err := CanAccessResource(other, member, held); !errors.Is(err, ErrNotFound) {
		t.Errorf("another member, held message: %v, want ErrNotFound", err)
	}
	if err := CanAccessResource(owner, owning, held); err != nil {
		t.Errorf("an owner, held message: %v", err)
	}
	privateTo := int64(77)
	inPrivate := &AttachedTo{Message: Message{Status: MessageApproved, AuthorID: &privateTo}, Private: &Private{MemberID: privateTo}}
	if err := CanAccessResource(other, member, inPrivate); !errors.Is(err, ErrNotFound) {
		t.Errorf("a member, private thread of another: %v, want ErrNotFound", err)
	}
	if err := CanAccessResource(owner, owning, inPrivate); err != nil {
		t.Errorf("an owner, private thread: %v", err)
	}
	toAnother := &AttachedTo{Message: inPrivate.Message, Private: &Private{MemberID: privateTo, OwnerID: owner.ID + 1000}}
	if err := CanAccessResource(owner, owning, toAnother); !errors.Is(err, ErrNotFound) {
		t.Errorf("an owner, private thread to another owner: %v, want ErrNotFound", err)
	}

	uploaderID := adder.ID
	r := Resource{UploaderID: &uploaderID}
	for _, c := range []struct {
		name string
		u    *User
		m    *Membership
		want error
	}{
		{"uploader", adder, member, nil},
		{"owner", owner, owning, nil},
		{"superuser", super, nil, nil},
		{"other member", plain, member, ErrForbidden},
		{"uploader who left", adder, nil, ErrNotFound},
	} {
		t.Run("edit/"+c.name, func(t *testing.T) {
			if err := CanEditResource(c.u, r, c.m, nil); !sameKind(err, c.want) {
				t.Fatalf("CanEditResource = %v, want %v", err, c.want)
			}
		})
	}

	if CanManageTags(super) != nil || CanManageTags(&User{ID: 8, Status: UserActive, Permissions: []Permission{PermManageCategories}}) != nil {
		t.Error("superusers and category managers manage tags")
	}
	if err := CanManageTags(adder); !errors.Is(err, ErrForbidden) {
		t.Errorf("CanManageTags(add_resources) = %v, want ErrForbidden", err)
	}
}

func sameKind(err, want error) bool {
	if want == nil {
		return err == nil
	}
	return errors.Is(err, want)
}

func TestResourceTags(t *testing.T) {
	tags, err := ParseTags(" Budget, minutes ,,Annual  Report 2024, budget, 日本語 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []Tag{{Slug: "budget", Name: "Budget"}, {Slug: "minutes", Name: "minutes"},
		{Slug: "annual-report-2024", Name: "Annual Report 2024"}}
	if len(tags) != 4 {
		t.Fatalf("ParseTags = %+v", tags)
	}
	for i, w := range want {
		if tags[i] != w {
			t.Errorf("tag %d = %+v, want %+v", i, tags[i], w)
		}
	}
	if s := tags[3].Slug; len(s) != len("tag-")+8 || s[:4] != "tag-" {
		t.Errorf("slug of a name without ASCII letters: %q", s)
	}
	if _, err := ParseTags(string(make([]byte, 101))); err == nil {
		t.Error("a tag over 100 characters was accepted")
	}
	if _, err := ValidateTag(Tag{Slug: "Bad Slug", Name: ""}); err == nil || FieldOf(err) != "" {
		var fe *FieldErrors
		if !errors.As(err, &fe) || fe.Fields["slug"] == "" || fe.Fields["name"] == "" {
			t.Errorf("ValidateTag of a bad slug and no name: %v", err)
		}
	}
	if got := CleanFilename(`C:\Users\ann\report "final".pdf`); got != "report final.pdf" {
		t.Errorf("CleanFilename = %q", got)
	}
	if got := CleanFilename("../.."); got != "file" {
		t.Errorf("CleanFilename(../..) = %q", got)
	}
}
