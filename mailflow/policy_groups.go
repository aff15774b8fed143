package mailflow

// Permission checks of the group pages (Explore, categories, invitations,
// requests to join) and of what a group's page shows. Pure, like those in
// policy.go: callers load the actor, the group and the membership (nil
// when there is none) and ask.

// CanManageCategories: superusers and holders of manage_categories create,
// rename, recolour and delete the categories Explore sorts groups by.
func CanManageCategories(actor *User) Allowed {
	if usable(actor) && actor.Has(PermManageCategories) {
		return nil
	}
	return Forbidden("managing categories needs the manage_categories permission")
}

// CanSeeUnlistedGroups: Explore lists every group, unlisted ones too, for
// superusers only; everyone else finds an unlisted group by its link.
func CanSeeUnlistedGroups(actor *User) bool { return isAdmin(actor) && usable(actor) }

// CanManageMembers: the group's owners (and superusers) decide requests to
// join, invite people, change roles and remove members. Others who may
// see the group are refused; those who may not get ErrNotFound.
func CanManageMembers(actor *User, g Group, m *Membership) Allowed {
	if err := CanViewGroup(actor, g, m); err != nil {
		return err
	}
	if IsGroupManager(actor, m) {
		return nil
	}
	return Forbidden("only the group's owners can manage its members")
}

// CanInvite: owners invite people by address to any group (it is how an
// invitation-only group grows, and a shortcut for the others).
func CanInvite(actor *User, g Group, m *Membership) Allowed {
	if err := CanManageMembers(actor, g, m); err != nil {
		return Forbidden("only the group's owners can invite people")
	}
	return nil
}

// CanAcceptInvitation decides an invitation link opened by actor, whose
// address the link was signed for (the caller checked that): it makes a
// full membership, whatever the join policy, since an owner asked; but
// it never lifts a ban made after the invitation was sent, and an
// existing membership keeps its status when it is already active.
func CanAcceptInvitation(actor *User, current *Membership) (MemberStatus, error) {
	if !usable(actor) {
		return "", Forbidden("your account is not active")
	}
	if current != nil && current.Status == MemberBanned {
		return "", Forbidden("you cannot rejoin this group")
	}
	return MemberActive, nil
}

// MessageState is what the group page knows about a message beyond the
// message itself: whether a flag on it is still open, and whether its
// author is banned from the group.
type MessageState struct {
	OpenFlag     bool
	AuthorBanned bool
}

// CanSeeGroupMessage decides whether a message shows in a group's pages
// to actor (with membership m): only what CanSeeMessage allows; a message
// under an open flag only to its author and the group's moderators, until
// a moderator resolves it; and a message of a member banned from the
// group only to its author (a ban takes their words down with them).
func CanSeeGroupMessage(actor *User, msg Message, m *Membership, st MessageState) bool {
	if !CanSeeMessage(actor, msg, m) {
		return false
	}
	own := actor != nil && msg.AuthorID != nil && *msg.AuthorID == actor.ID
	if st.AuthorBanned && !own {
		return false
	}
	if st.OpenFlag && !own && !IsGroupModerator(actor, m) {
		return false
	}
	return true
}

// CanFindMessage decides whether search lists a message to actor (who
// reads its thread): what every reader of the thread sees (approved, no
// open flag, its author not banned), and actor's own messages but removed
// ones. Moderators find held and flagged messages in the moderation
// queue, not in search, so their rights do not widen it.
func CanFindMessage(actor *User, msg Message, st MessageState) bool {
	if actor != nil && msg.AuthorID != nil && *msg.AuthorID == actor.ID {
		return msg.Status != MessageRemoved
	}
	return msg.Status == MessageApproved && !st.OpenFlag && !st.AuthorBanned
}

// MayPost reports whether actor may start a thread in the group (the
// compose box shows only then); a moderated group holds the post, which
// is still posting.
func MayPost(actor *User, g Group, m *Membership) bool {
	_, err := PostDecision(actor, g, m)
	return err == nil
}

// CanLeave: a member leaves a group, withdraws a request or declines an
// invitation, as CanRemoveMembership allows; but a ban is not theirs to
// lift by "leaving" (its row is what keeps them out).
func CanLeave(actor *User, g Group, m *Membership) Allowed {
	if actor == nil {
		return ErrNotFound
	}
	if m != nil && m.Status == MemberBanned {
		return Forbidden("you were removed from this group by its owners")
	}
	return CanRemoveMembership(actor, *actor, g, m)
}
