package mailflow

// Permission checks of resources (files shared with a group) and of the
// tags that label them. Pure, like the rest of the policy: callers load
// the actor, the group, the actor's membership (nil when there is none)
// and, for a file that came attached to a message, that message.
//
// A group's resources are its members' business: whoever is not an active
// member (nor a superuser) is told there is nothing there (ErrNotFound),
// even for a listed, open group whose conversations anyone may read.

// CanUploadResource: the group's owners, superusers, and holders of
// add_resources who are active members of the group add files to it.
func CanUploadResource(actor *User, g Group, m *Membership) Allowed {
	if !usable(actor) {
		return ErrNotFound
	}
	if IsGroupManager(actor, m) {
		return nil
	}
	if m.Active() && actor.Has(PermAddResources) {
		return nil
	}
	if err := CanViewGroup(actor, g, m); err != nil {
		return err
	}
	if !m.Active() {
		return Forbidden("only members of the group can add resources to it")
	}
	return Forbidden("adding resources needs the add_resources permission, or owning the group")
}

// CanAccessResources: a group's resources are listed and downloaded by
// its active members and by superusers; for everyone else they do not
// exist.
func CanAccessResources(actor *User, m *Membership) Allowed {
	if usable(actor) && (isAdmin(actor) || m.Active()) {
		return nil
	}
	return ErrNotFound
}

// AttachedTo is what decides who sees a file that came attached to a
// message: the message (its status, author), its flags and bans, and the
// privacy of its thread.
type AttachedTo struct {
	Message Message
	State   MessageState
	Private *Private // the thread is private (nil: it is not)
}

// CanAccessResource: one resource is seen by those who may access its
// group's resources (CanAccessResources); a file that came attached to a
// message only while they may see that message (CanSeeGroupMessage, and
// CanReadPrivateThread for a private thread): a held or flagged message's
// attachment is no more public than the message.
func CanAccessResource(actor *User, m *Membership, from *AttachedTo) Allowed {
	if err := CanAccessResources(actor, m); err != nil {
		return err
	}
	if from == nil {
		return nil
	}
	if from.Private != nil && CanReadPrivateThread(actor, m, *from.Private) != nil {
		return ErrNotFound
	}
	if !CanSeeGroupMessage(actor, from.Message, m, from.State) {
		return ErrNotFound
	}
	return nil
}

// CanEditResource: the uploader, the group's owners and superusers rename,
// retag, move and delete a resource they can see.
func CanEditResource(actor *User, r Resource, m *Membership, from *AttachedTo) Allowed {
	if err := CanAccessResource(actor, m, from); err != nil {
		return err
	}
	if IsGroupManager(actor, m) || (r.UploaderID != nil && *r.UploaderID == actor.ID) {
		return nil
	}
	return Forbidden("only the person who added this file and the group's owners can change it")
}

// CanManageTags: Admin › Tags (add, rename, delete tags) is for superusers
// and holders of manage_categories, who also manage the categories.
func CanManageTags(actor *User) Allowed {
	if usable(actor) && actor.Has(PermManageCategories) {
		return nil
	}
	return Forbidden("managing tags needs the manage_categories permission")
}
