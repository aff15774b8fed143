package mailflow

import (
	"errors"
	"testing"
	"time"
)

// TestWritePrivatelyPolicy: any active member writes privately to any
// other active member of the group who takes private messages; the
// private thread this starts is read by those two alone, whatever their
// roles (CanReadPrivateThread agrees with the SQL, which never asks
// whether the addressee is an owner).
func TestWritePrivatelyPolicy(t *testing.T) {
	now := time.Now()
	g := Group{ID: 7, Listed: true, JoinPolicy: JoinOpen}
	ann := &User{ID: 1, Status: UserActive, EmailVerifiedAt: &now}
	member := &Membership{GroupID: 7, UserID: 1, Role: RoleMember, Status: MemberActive}
	requested := &Membership{GroupID: 7, UserID: 1, Role: RoleMember, Status: MemberRequested}
	bob := &Membership{GroupID: 7, UserID: 2, Role: RoleMember, Status: MemberActive}
	bobLeft := &Membership{GroupID: 7, UserID: 2, Role: RoleMember, Status: MemberRequested}
	elsewhere := &Membership{GroupID: 8, UserID: 2, Role: RoleMember, Status: MemberActive}
	for _, c := range []struct {
		name    string
		m, to   *Membership
		accepts bool
		want    error
	}{
		{"a member to a member", member, bob, true, nil},
		{"to a member who takes no private messages", member, bob, false, ErrForbidden},
		{"a member who asked to join", requested, bob, true, ErrForbidden},
		{"to a member who is not active", member, bobLeft, true, ErrNotFound},
		{"to no member", member, nil, true, ErrNotFound},
		{"to a member of another group", member, elsewhere, true, ErrNotFound},
		{"to themselves", member, member, true, ErrForbidden},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := CanWritePrivately(ann, g, c.m, c.to, c.accepts)
			if !errors.Is(got, c.want) || (c.want == nil && got != nil) {
				t.Fatalf("CanWritePrivately = %v, want %v", got, c.want)
			}
		})
	}
	p := Private{MemberID: 1, OwnerID: 2}
	for id, want := range map[int64]error{1: nil, 2: nil, 3: ErrNotFound} {
		u := &User{ID: id, Status: UserActive, EmailVerifiedAt: &now}
		if got := CanReadPrivateThread(u, &Membership{GroupID: 7, UserID: id, Role: RoleOwner, Status: MemberActive}, p); !errors.Is(got, want) || (want == nil && got != nil) {
			t.Errorf("user %d (an owner) reads a private thread between members 1 and 2: %v, want %v", id, got, want)
		}
	}
}
