package mailflow

// The permission checks. Every entry point (JSON API, web pages, SMTP
// intake) asks these functions and nothing else, so a rule changes in one
// place. They are pure: callers load the actor, the group and the actor's
// membership (nil when there is none) and ask.
//
// A check that fails because the actor may not even know the thing exists
// returns ErrNotFound (the API answers 404, never revealing private
// groups); one that fails on a thing the actor can see returns ErrForbidden.

// Allowed is the result of a check: nil, ErrNotFound or ErrForbidden.
type Allowed = error

func isAdmin(u *User) bool { return u != nil && u.IsSuperuser }

func usable(u *User) bool { return u != nil && u.Status == UserActive }

// CanCreateUser: superusers and holders of manage_users.
func CanCreateUser(actor *User) Allowed {
	if usable(actor) && actor.Has(PermManageUsers) {
		return nil
	}
	return Forbidden("creating users needs the manage_users permission")
}

// CanViewUser: oneself, superusers and holders of manage_users. Others get
// ErrNotFound so that addresses cannot be probed.
func CanViewUser(actor *User, target User) Allowed {
	if usable(actor) && (actor.ID == target.ID || actor.Has(PermManageUsers)) {
		return nil
	}
	return ErrNotFound
}

// CanCreateGroup: superusers and holders of create_groups.
func CanCreateGroup(actor *User) Allowed {
	if usable(actor) && actor.Has(PermCreateGroups) {
		return nil
	}
	return Forbidden("creating groups needs the create_groups permission")
}

// CanSetOfficial: only superusers mark a group official.
func CanSetOfficial(actor *User) Allowed {
	if isAdmin(actor) {
		return nil
	}
	return Forbidden("only superusers can mark a group official")
}

// CanViewGroup: a group's page is visible to superusers, to anyone with a
// membership row that is not a ban (members, invitees, requesters), and to
// every active user when the group is listed.
func CanViewGroup(actor *User, g Group, m *Membership) Allowed {
	if !usable(actor) {
		return ErrNotFound
	}
	if isAdmin(actor) || g.Listed {
		return nil
	}
	if m != nil && m.Status != MemberBanned {
		return nil
	}
	return ErrNotFound
}

// CanReadThreads: members read their group's threads; public groups (listed
// and open) are readable by every active user; private groups' threads are
// not found for non-members.
func CanReadThreads(actor *User, g Group, m *Membership) Allowed {
	if !usable(actor) {
		return ErrNotFound
	}
	if isAdmin(actor) || m.Active() || (g.Public() && (m == nil || m.Status != MemberBanned)) {
		return nil
	}
	return ErrNotFound
}

// IsGroupManager reports whether actor runs the group: a superuser or one
// of its owners.
func IsGroupManager(actor *User, m *Membership) bool {
	return isAdmin(actor) || (usable(actor) && m.Active() && m.Role == RoleOwner)
}

// IsGroupModerator reports whether actor may moderate the group's messages:
// managers and moderators.
func IsGroupModerator(actor *User, m *Membership) bool {
	return IsGroupManager(actor, m) || (usable(actor) && m.Active() && m.Role == RoleModerator) ||
		(usable(actor) && actor.Has(PermModerateGroups))
}

// CanEditGroup: owners and superusers change a group's settings.
func CanEditGroup(actor *User, g Group, m *Membership) Allowed {
	if err := CanViewGroup(actor, g, m); err != nil {
		return err
	}
	if IsGroupManager(actor, m) {
		return nil
	}
	return Forbidden("only the group's owners can change its settings")
}

// CanListMembers follows the group's member list visibility.
func CanListMembers(actor *User, g Group, m *Membership) Allowed {
	if err := CanViewGroup(actor, g, m); err != nil {
		return err
	}
	switch {
	case IsGroupModerator(actor, m):
		return nil
	case g.MemberListVisibility == VisibleToMembers && m.Active():
		return nil
	}
	return Forbidden("this group's member list is visible only to its owners")
}

// MembershipChange is a requested change to target's membership in a
// group; nil fields are left alone.
type MembershipChange struct {
	Role     *Role
	Delivery *Delivery
}

// CanChangeMembership decides whether actor may create or change target's
// membership (current may be nil) as asked, and returns the status the
// membership gets. Managers may add anyone and set any role. A user may
// act for themselves only: join an open group, ask to join a by-request
// group, accept an invitation, and choose their own delivery; never raise
// their own role.
func CanChangeMembership(actor *User, target User, g Group, actorM, current *Membership, ch MembershipChange) (MemberStatus, error) {
	if err := CanViewGroup(actor, g, actorM); err != nil {
		return "", err
	}
	if IsGroupManager(actor, actorM) {
		// An owner adding or changing someone is an explicit act: it takes
		// effect at once, whatever the join policy, and lifts a ban.
		return MemberActive, nil
	}
	if actor.ID != target.ID {
		return "", Forbidden("only the group's owners can change other people's memberships")
	}
	if ch.Role != nil && *ch.Role != RoleMember && (current == nil || *ch.Role != current.Role) {
		return "", Forbidden("only the group's owners can change roles")
	}
	if current != nil {
		switch current.Status {
		case MemberBanned:
			return "", Forbidden("you cannot rejoin this group")
		case MemberInvited:
			return MemberActive, nil // accepting the invitation
		default:
			return current.Status, nil // changing one's own delivery
		}
	}
	switch g.JoinPolicy {
	case JoinOpen:
		return MemberActive, nil
	case JoinRequest:
		return MemberRequested, nil
	default:
		return "", Forbidden("this group is by invitation only")
	}
}

// CanRemoveMembership: managers remove anyone; members remove themselves.
func CanRemoveMembership(actor *User, target User, g Group, actorM *Membership) Allowed {
	if err := CanViewGroup(actor, g, actorM); err != nil {
		return err
	}
	if IsGroupManager(actor, actorM) || (usable(actor) && actor.ID == target.ID) {
		return nil
	}
	return Forbidden("only the group's owners can remove other members")
}

// PostDecision applies the group's posting policy to an author: it returns
// the status a new message gets, or why it is refused. author may be nil
// for mail from an address with no account.
func PostDecision(author *User, g Group, m *Membership) (MessageStatus, error) {
	if author == nil {
		return "", ErrNotMember
	}
	if author.Status == UserBanned {
		return "", Forbidden("your account is banned")
	}
	if !usable(author) {
		return "", Forbidden("your account is not active")
	}
	if !author.Verified() {
		return "", Forbidden("confirm your email address first: open the link in the email Parley sent you")
	}
	if !m.Active() {
		if isAdmin(author) {
			return MessageApproved, nil
		}
		if err := CanViewGroup(author, g, m); err != nil {
			return "", err
		}
		return "", ErrNotMember
	}
	if g.Moderated && !IsGroupModerator(author, m) && !m.Whitelisted {
		return MessageHeld, nil
	}
	return MessageApproved, nil
}

// CanSeeMessage: approved messages are seen by whoever reads the thread;
// held or rejected ones only by their author and the group's moderators.
func CanSeeMessage(actor *User, msg Message, m *Membership) bool {
	if msg.Status == MessageApproved {
		return true
	}
	if actor == nil {
		return false
	}
	if msg.AuthorID != nil && *msg.AuthorID == actor.ID && msg.Status != MessageRemoved {
		return true
	}
	return IsGroupModerator(actor, m)
}

// CanManageDeliverability: the suppression list and bounce records are
// for superusers and holders of manage_users.
func CanManageDeliverability(actor *User) Allowed {
	if usable(actor) && actor.Has(PermManageUsers) {
		return nil
	}
	return Forbidden("the suppression list needs the manage_users permission")
}

// CanManageUsers: the user pages of the admin menu (ban, edit profile,
// grant permissions) are for superusers and holders of manage_users.
func CanManageUsers(actor *User) Allowed {
	if usable(actor) && actor.Has(PermManageUsers) {
		return nil
	}
	return Forbidden("managing users needs the manage_users permission")
}

// CanGrantPermissions: only superusers grant permissions or the staff
// badge; a user manager cannot make themselves more powerful.
func CanGrantPermissions(actor *User) Allowed {
	if isAdmin(actor) && usable(actor) {
		return nil
	}
	return Forbidden("only superusers can change permissions")
}

// CanSeeProfileGroup: a member's profile lists their groups (when they
// allow it), but a group that is not listed appears only to the
// viewer's fellow members and to superusers.
func CanSeeProfileGroup(viewer *User, g Group, viewerMembership *Membership) bool {
	if g.Listed || isAdmin(viewer) {
		return true
	}
	return usable(viewer) && viewerMembership.Active()
}

// CanImpersonate ("Become user"): user managers may act as an ordinary
// member; only a superuser may become another superuser. Nobody becomes
// themselves or a banned account.
func CanImpersonate(actor *User, target User) Allowed {
	if err := CanManageUsers(actor); err != nil {
		return err
	}
	if target.ID == actor.ID {
		return Invalid("user", "you cannot become yourself")
	}
	if target.IsSuperuser && !actor.IsSuperuser {
		return Forbidden("only superusers can become a superuser")
	}
	if target.Status != UserActive {
		return Forbidden("this account is not active")
	}
	return nil
}

// CanViewReports: the dashboard and the user and group reports are for
// superusers and holders of view_reports (user managers see them too:
// finding a user starts there).
func CanViewReports(actor *User) Allowed {
	if usable(actor) && (actor.Has(PermViewReports) || actor.Has(PermManageUsers)) {
		return nil
	}
	return Forbidden("reports need the view_reports permission")
}

// TrustHold reports whether a post that PostDecision approved is held all
// the same because its author is new to the group: the group holds the
// first `required` posts of each member, and `approved` of theirs have
// been approved so far. Moderators and whitelisted members are trusted.
func TrustHold(required, approved int, author *User, m *Membership) bool {
	if required <= 0 || approved >= required {
		return false
	}
	return !IsGroupModerator(author, m) && !(m != nil && m.Whitelisted)
}

// UnauthenticatedHold reports whether a post that the rules above
// approved is held all the same because its From was not authenticated
// (SenderAuth): the approval then rests on a privilege — moderator or
// owner, whitelisted, trusted after the group's first posts, superuser
// posting from outside — that a forged From must not borrow. In an
// unmoderated group with no first-posts rule, membership alone lets a
// member post, and nothing is borrowed.
func UnauthenticatedHold(g Group, m *Membership) bool {
	return g.Moderated || g.TrustPosts > 0 || !m.Active()
}
