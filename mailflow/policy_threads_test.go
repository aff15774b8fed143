package mailflow

import (
	"errors"
	"testing"
	"time"
)

func TestThreadReadPolicy(t *testing.T) {
	now := time.Now()
	user := func(id int64) *User {
		return &User{ID: id, Status: UserActive, EmailVerifiedAt: &now}
	}
	member := &Membership{Role: RoleMember, Status: MemberActive}
	owner := &Membership{Role: RoleOwner, Status: MemberActive}
	banned := &Membership{Role: RoleMember, Status: MemberBanned}
	admin := user(9)
	admin.IsSuperuser = true
	private := Group{Listed: false, JoinPolicy: JoinInvite}
	public := Group{Listed: true, JoinPolicy: JoinOpen}
	listed := Group{Listed: true, JoinPolicy: JoinRequest}
	pm := &Private{MemberID: 1}
	po := &Private{MemberID: 1, OwnerID: 4} // to owner 4 alone

	cases := []struct {
		name          string
		actor         *User
		g             Group
		m             *Membership
		archivePublic bool
		private       *Private
		want          error
	}{
		{"visitor, members-only archive", nil, listed, nil, false, nil, ErrNotFound},
		{"visitor, public archive", nil, private, nil, true, nil, nil},
		{"non-member, private group", user(2), private, nil, false, nil, ErrNotFound},
		{"non-member, public group", user(2), public, nil, false, nil, nil},
		{"non-member, public archive", user(2), listed, nil, true, nil, nil},
		{"banned member, members-only", user(2), public, banned, false, nil, ErrNotFound},
		{"banned member, public archive", user(2), listed, banned, true, nil, nil},
		{"member", user(2), private, member, false, nil, nil},
		{"private: its member", user(1), private, member, false, pm, nil},
		{"private: an owner", user(3), private, owner, false, pm, nil},
		{"private: a superuser", admin, private, nil, false, pm, nil},
		{"private: another member", user(2), public, member, true, pm, ErrNotFound},
		{"private: a visitor of a public archive", nil, public, nil, true, pm, ErrNotFound},
		{"to one owner: its member", user(1), private, member, false, po, nil},
		{"to one owner: that owner", user(4), private, owner, false, po, nil},
		{"to one owner: another owner", user(3), private, owner, false, po, ErrNotFound},
		{"to one owner: another member", user(2), public, member, true, po, ErrNotFound},
		{"to one owner: a superuser", admin, private, nil, false, po, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := CanReadThread(tc.actor, tc.g, tc.m, tc.archivePublic, tc.private)
			if !errors.Is(got, tc.want) || (tc.want == nil && got != nil) {
				t.Fatalf("CanReadThread = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPrivateThreadPostDecision(t *testing.T) {
	now := time.Now()
	g := Group{Listed: true, JoinPolicy: JoinOpen, Moderated: true}
	the := &User{ID: 1, Status: UserActive, EmailVerifiedAt: &now}
	other := &User{ID: 2, Status: UserActive, EmailVerifiedAt: &now}
	owner := &User{ID: 3, Status: UserActive, EmailVerifiedAt: &now}
	unverified := &User{ID: 1, Status: UserActive}
	member := &Membership{Role: RoleMember, Status: MemberActive}
	ownerM := &Membership{Role: RoleOwner, Status: MemberActive}

	// A moderated group holds its members' posts, but not a private
	// thread's: the owners who would approve it are its readers.
	if st, err := PostDecision(the, g, member); err != nil || st != MessageHeld {
		t.Fatalf("PostDecision in a moderated group = %v, %v; want held", st, err)
	}
	if st, err := PrivatePostDecision(the, g, member, Private{MemberID: 1}); err != nil || st != MessageApproved {
		t.Fatalf("the member = %v, %v; want approved", st, err)
	}
	if st, err := PrivatePostDecision(owner, g, ownerM, Private{MemberID: 1}); err != nil || st != MessageApproved {
		t.Fatalf("an owner = %v, %v; want approved", st, err)
	}
	if _, err := PrivatePostDecision(other, g, member, Private{MemberID: 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another member = %v; want ErrNotFound", err)
	}
	if _, err := PrivatePostDecision(owner, g, ownerM, Private{MemberID: 1, OwnerID: 4}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an owner, in a thread to another owner = %v; want ErrNotFound", err)
	}
	if _, err := PrivatePostDecision(nil, g, nil, Private{MemberID: 1}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("mail from no account = %v; want ErrNotMember", err)
	}
	if _, err := PrivatePostDecision(unverified, g, member, Private{MemberID: 1}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("an unverified member = %v; want ErrForbidden", err)
	}
	if _, err := PrivatePostDecision(the, g, nil, Private{MemberID: 1}); !errors.Is(err, ErrNotMember) {
		t.Fatalf("a member who left = %v; want ErrNotMember", err)
	}
}

func TestThreadDownloadFlagAndWritePolicy(t *testing.T) {
	now := time.Now()
	u := &User{ID: 1, Status: UserActive, EmailVerifiedAt: &now}
	mod := &User{ID: 5, Status: UserActive, Permissions: []Permission{PermModerateGroups}}
	member := &Membership{Role: RoleMember, Status: MemberActive}
	requested := &Membership{Role: RoleMember, Status: MemberRequested}
	listed := Group{Listed: true, JoinPolicy: JoinRequest}
	hidden := Group{Listed: false, JoinPolicy: JoinInvite}

	if err := CanDownloadRaw(u, member); err != nil {
		t.Fatalf("member download: %v", err)
	}
	if err := CanDownloadRaw(mod, nil); err != nil {
		t.Fatalf("moderator of all groups download: %v", err)
	}
	for name, tc := range map[string]struct {
		u *User
		m *Membership
	}{"visitor": {nil, nil}, "non-member": {u, nil}, "requester": {u, requested}} {
		if err := CanDownloadRaw(tc.u, tc.m); !errors.Is(err, ErrNotFound) {
			t.Fatalf("%s download = %v, want ErrNotFound", name, err)
		}
	}

	own := Message{AuthorID: &u.ID, Status: MessageApproved}
	if err := CanFlag(u, own); !errors.Is(err, ErrForbidden) {
		t.Fatalf("flag own message = %v, want ErrForbidden", err)
	}
	if err := CanFlag(mod, own); err != nil {
		t.Fatalf("flag another's message: %v", err)
	}
	if err := CanFlag(nil, own); !errors.Is(err, ErrNotFound) {
		t.Fatalf("visitor flag = %v, want ErrNotFound", err)
	}

	if err := CanWriteToOwners(u, listed, member); err != nil {
		t.Fatalf("member writes to owners: %v", err)
	}
	if err := CanWriteToOwners(u, listed, nil); !errors.Is(err, ErrForbidden) {
		t.Fatalf("non-member of a listed group = %v, want ErrForbidden", err)
	}
	if err := CanWriteToOwners(u, hidden, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("non-member of a hidden group = %v, want ErrNotFound", err)
	}
}

func TestThreadSearchScope(t *testing.T) {
	if s := ScopeOf(nil); s != (ReadScope{}) {
		t.Fatalf("visitor scope = %+v", s)
	}
	u := &User{ID: 4, Status: UserActive}
	if s := ScopeOf(u); s != (ReadScope{ViewerID: 4, Public: true}) {
		t.Fatalf("member scope = %+v", s)
	}
	u.IsSuperuser = true
	if s := ScopeOf(u); !s.All {
		t.Fatalf("superuser scope = %+v", s)
	}
	u.Status = UserDeactivated
	if s := ScopeOf(u); s != (ReadScope{}) {
		t.Fatalf("deactivated scope = %+v", s)
	}
}

func TestWriteToOneOwnerPolicy(t *testing.T) {
	now := time.Now()
	g := Group{ID: 7, Listed: true, JoinPolicy: JoinOpen}
	ann := &User{ID: 1, Status: UserActive, EmailVerifiedAt: &now}
	member := &Membership{GroupID: 7, UserID: 1, Role: RoleMember, Status: MemberActive}
	requested := &Membership{GroupID: 7, UserID: 1, Role: RoleMember, Status: MemberRequested}
	owner := &Membership{GroupID: 7, UserID: 3, Role: RoleOwner, Status: MemberActive}
	moderator := &Membership{GroupID: 7, UserID: 3, Role: RoleModerator, Status: MemberActive}
	annOwner := &Membership{GroupID: 7, UserID: 1, Role: RoleOwner, Status: MemberActive}
	elsewhere := &Membership{GroupID: 8, UserID: 3, Role: RoleOwner, Status: MemberActive}
	for _, c := range []struct {
		name     string
		m, owner *Membership
		want     error
	}{
		{"a member to an owner", member, owner, nil},
		{"a member who asked to join", requested, owner, ErrForbidden},
		{"to a moderator", member, moderator, ErrNotFound},
		{"to no member", member, nil, ErrNotFound},
		{"to an owner of another group", member, elsewhere, ErrNotFound},
		{"an owner to themselves", annOwner, annOwner, ErrForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CanWriteToOwner(ann, g, c.m, c.owner)
			if !errors.Is(got, c.want) || (c.want == nil && got != nil) {
				t.Fatalf("CanWriteToOwner = %v, want %v", got, c.want)
			}
		})
	}
}
