package mailflow

// The permission checks of conversations, beyond the group's own
// (policy.go): private threads between a member and the group's owners,
// archives readable without signing in, raw (mbox) downloads and flags.
// Which messages a list shows is CanSeeGroupMessage (policy_groups.go). Like the rest of the policy they are pure:
// callers load the facts and ask.

// CanReadArchive: whoever may read the group's threads (CanReadThreads)
// reads its archive; when the group's archive is public, so does anyone
// at all, signed out or not. That includes a member the group banned: they
// could read it signed out anyway, and signed in they still see their own
// messages, which CanSeeGroupMessage shows no one else.
func CanReadArchive(actor *User, g Group, m *Membership, archivePublic bool) Allowed {
	if archivePublic || CanReadThreads(actor, g, m) == nil {
		return nil
	}
	return ErrNotFound
}

// Private says whom a private thread is between: its member and the
// group's owners, or, with OwnerID set, its member and that one person:
// an owner written to (CanWriteToOwner), or any member written to
// privately (CanWritePrivately). The rules below and the SQL that lists
// private threads never ask whether OwnerID is an owner.
type Private struct {
	MemberID int64
	OwnerID  int64 // 0: every owner of the group
}

// CanReadPrivateThread: a private thread is between one member and the
// group's owners, or one of them; only they and superusers know it
// exists. The SQL of the lists (the inbox, search, resources, the
// recipients of its mail) says the same.
func CanReadPrivateThread(actor *User, m *Membership, p Private) Allowed {
	if !usable(actor) {
		return ErrNotFound
	}
	switch {
	case actor.ID == p.MemberID, p.OwnerID != 0 && actor.ID == p.OwnerID:
		return nil
	case p.OwnerID == 0 && IsGroupManager(actor, m), isAdmin(actor):
		return nil
	}
	return ErrNotFound
}

// CanReadThread decides who reads one thread: the group's archive rules
// for an ordinary thread (p nil), CanReadPrivateThread for a private one,
// whatever the group's settings.
func CanReadThread(actor *User, g Group, m *Membership, archivePublic bool, p *Private) Allowed {
	if p != nil {
		return CanReadPrivateThread(actor, m, *p)
	}
	return CanReadArchive(actor, g, m, archivePublic)
}

// CanWriteToOwners: an active member may start a private thread with the
// group's owners. Those who may not see the group do not find it.
func CanWriteToOwners(actor *User, g Group, m *Membership) Allowed {
	if err := CanViewGroup(actor, g, m); err != nil {
		return err
	}
	if !m.Active() {
		return Forbidden("join the group first")
	}
	return nil
}

// CanWriteToOwner: whoever may write to the owners (CanWriteToOwners)
// may write to one of them alone, owner being that person's membership;
// someone who is not an active owner of the group is not found there.
// Owners write to each other this way too, but nobody to themselves.
func CanWriteToOwner(actor *User, g Group, m *Membership, owner *Membership) Allowed {
	if err := CanWriteToOwners(actor, g, m); err != nil {
		return err
	}
	if !owner.Active() || owner.Role != RoleOwner || owner.GroupID != g.ID {
		return ErrNotFound
	}
	if owner.UserID == actor.ID {
		return Forbidden("you cannot write to yourself")
	}
	return nil
}

// CanWritePrivately: whoever may write to the owners (CanWriteToOwners)
// may write privately to any other active member of the group (to being
// their membership) who takes private messages (accepts: "Others may
// write to me privately"): "Write privately" on a message, and
// "Reply to the author privately" in group mail. Someone who is not an
// active member of the group is not found there.
func CanWritePrivately(actor *User, g Group, m *Membership, to *Membership, accepts bool) Allowed {
	if err := CanWriteToOwners(actor, g, m); err != nil {
		return err
	}
	if !to.Active() || to.GroupID != g.ID {
		return ErrNotFound
	}
	if to.UserID == actor.ID {
		return Forbidden("you cannot write to yourself")
	}
	if !accepts {
		return Forbidden("this member does not take private messages")
	}
	return nil
}

// PrivatePostDecision applies the posting policy to a message in a
// private thread: only its member and the group's owners (or its one
// owner) take part, each
// as PostDecision allows them to post to the group at all. Such a message
// is never held: the owners who would approve it are its readers.
func PrivatePostDecision(author *User, g Group, m *Membership, p Private) (MessageStatus, error) {
	if author == nil {
		return "", ErrNotMember
	}
	if err := CanReadPrivateThread(author, m, p); err != nil {
		return "", err
	}
	if _, err := PostDecision(author, g, m); err != nil {
		return "", err
	}
	return MessageApproved, nil
}

// CanDownloadRaw: the mbox downloads (raw sources, with the addresses in
// them) are for the group's members and moderators, never for readers of
// a public group or archive; others are told there is nothing there.
func CanDownloadRaw(actor *User, m *Membership) Allowed {
	if usable(actor) && (m.Active() || IsGroupModerator(actor, m)) {
		return nil
	}
	return ErrNotFound
}

// CanFlag: anyone signed in who sees a message may flag it for the
// moderators, except its author.
func CanFlag(actor *User, msg Message) Allowed {
	if !usable(actor) {
		return ErrNotFound
	}
	if msg.AuthorID != nil && *msg.AuthorID == actor.ID {
		return Forbidden("you cannot flag your own message")
	}
	return nil
}

// ReadScope is what a query over many groups (search) needs to know of
// its viewer to apply CanReadThreads, CanReadArchive and
// CanReadPrivateThread in SQL, one group at a time.
type ReadScope struct {
	ViewerID int64 // 0: signed out
	Public   bool  // reads public groups (listed and open): any usable account
	All      bool  // superusers read every group and private thread
}

// ScopeOf returns actor's ReadScope; nil (signed out) reads public
// archives only.
func ScopeOf(actor *User) ReadScope {
	if !usable(actor) {
		return ReadScope{}
	}
	return ReadScope{ViewerID: actor.ID, Public: true, All: isAdmin(actor)}
}
