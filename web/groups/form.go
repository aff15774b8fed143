package groups

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	groupsvc "github.com/parleymail/parley/mailflow/groups"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/web/session"
)

// groupFields are the inputs of the group form, kept to fill it again.
var groupFields = []string{"name", "slug", "category", "description", "owners", "whitelist", "official", "join_policy",
	"listed", "moderated", "member_list_visibility", "location", "display_location", "archive", "reply_to", "clear_picture", "trust_posts", "dmarc_failure", "attach_max_kb",
	"subject_tag", "subject_tag_was"}

// groupInput is the checked group form: a change for the group
// service, with the accounts its owners and whitelist fields name.
type groupInput struct {
	Change    groupsvc.Change
	Owners    []mailflow.User // create: owners besides the creator; edit: every owner
	Whitelist []mailflow.User
}

// fieldLabels name fields in messages ("Name is required").
var fieldLabels = map[string]string{
	"name": "Name", "slug": "The address", "description": "The description", "join_policy": "Who can join",
	"member_list_visibility": "The member list setting", "reply_to": "Replies", "location": "The location",
	"display_location": "The location shown", "subject_tag": "The subject tag",
}

// choiceMessages say, for the fields people pick from, what to do rather
// than what was wrong.
var choiceMessages = map[string]string{
	"category":               "Choose a category from the list.",
	"join_policy":            "Choose who can join.",
	"member_list_visibility": "Choose who sees the member list.",
	"reply_to":               "Choose where replies go.",
	"dmarc_failure":          "Choose what happens to mail failing its domain's DMARC policy.",
	"trust_posts":            "Enter a number from 0 to 100.",
	"attach_max_kb":          "Enter a number of KB from 0 to 10240.",
}

// addErr records err, a problem the group service found, beside its
// field in words for people.
func addErr(errs *mailflow.FieldErrors, err error) {
	var fe *mailflow.FieldError
	switch {
	case errors.Is(err, mailflow.ErrForbidden):
		// The service's only refusal: the official flag (CanSetOfficial).
		errs.Add("official", "Only superusers can change whether a group is official.")
	case !errors.As(err, &fe):
		errs.Add("form", err.Error())
	case choiceMessages[fe.Field] != "":
		errs.Add(fe.Field, choiceMessages[fe.Field])
	default:
		errs.Add(fe.Field, sentence(fieldLabels[fe.Field], fe.Msg))
	}
}

// problemFields turns the group service's problems into the form's
// messages; false when err holds none.
func problemFields(err error) (map[string]string, bool) {
	var p groupsvc.Problems
	if !errors.As(err, &p) {
		return nil, false
	}
	errs := &mailflow.FieldErrors{}
	for _, e := range p {
		addErr(errs, e)
	}
	return errs.Fields, true
}

// sentence makes a message of mailflow's validation ("is required",
// "use 1–64 lowercase letters…") a sentence for people, naming the field
// when the message needs a subject.
func sentence(label, msg string) string {
	if label == "" {
		label = "This"
	}
	if strings.HasPrefix(msg, "is ") || strings.HasPrefix(msg, "must ") {
		return label + " " + msg + "."
	}
	if msg == "" {
		return label + " is not valid."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}

// parseGroupForm reads the form into a change of g (as it is, or the
// service's defaults when creating) and has the group service check it,
// collecting every problem. creating: the slug is read, and the owners
// listed are extra ones. The error is a failure to check (a database
// error), not a problem of the form.
func (h *handler) parseGroupForm(c *gin.Context, actor *mailflow.User, g mailflow.Group, form map[string]string,
	creating bool) (groupInput, *mailflow.FieldErrors, error) {
	errs := &mailflow.FieldErrors{}
	in := groupInput{Change: formChange(form, errs, creating)}
	if cur := session.Get(c); cur.Impersonator != nil {
		in.Change.ImpersonatorID = &cur.Impersonator.ID
	}
	data, contentType, problem := picture.FromForm(c, "picture")
	if problem != "" {
		errs.Add("picture", problem)
	}
	if data != nil {
		in.Change.Picture = &picture.Upload{Data: data, ContentType: contentType}
	}
	in.Change.ClearPicture = form["clear_picture"] == "1"
	h.resolvePeople(c.Request.Context(), form, &in, errs, creating)
	owners, white := userIDs(in.Owners), userIDs(in.Whitelist)
	in.Change.Owners, in.Change.Whitelist = &owners, &white
	problems, err := h.Groups.Check(c.Request.Context(), actor, &g, in.Change)
	for _, p := range problems {
		addErr(errs, p)
	}
	return in, errs, err
}

// formChange reads the form's fields as the group service's settings; a
// form gives every setting, so each is set. What cannot be read at all
// is recorded in errs.
func formChange(form map[string]string, errs *mailflow.FieldErrors, creating bool) groupsvc.Change {
	text := func(name string) *string { v := form[name]; return &v }
	on := func(name string) *bool { v := form[name] == "1"; return &v }
	var ch groupsvc.Change
	if creating {
		form["slug"] = strings.ToLower(strings.TrimSpace(form["slug"]))
		ch.Slug = text("slug")
	}
	form["location"], form["display_location"] = strings.TrimSpace(form["location"]), strings.TrimSpace(form["display_location"])
	description := strings.ReplaceAll(form["description"], "\r\n", "\n")
	ch.Settings = groupsvc.Settings{
		Name: text("name"), Description: &description, Category: text("category"), JoinPolicy: text("join_policy"),
		MemberListVisibility: text("member_list_visibility"), ReplyTo: text("reply_to"),
		Location: text("location"), DisplayLocation: text("display_location"),
		Listed: on("listed"), Moderated: on("moderated"), Official: on("official"),
	}
	switch form["archive"] {
	case "public", "members":
		ch.ArchivePublic = new(bool)
		*ch.ArchivePublic = form["archive"] == "public"
	default:
		errs.Add("archive", "Choose who can read the archive.")
	}
	dmarc := form["dmarc_failure"]
	if dmarc == "" {
		dmarc = string(mailflow.DMARCHold) // the default, also for a form from before the setting
	}
	ch.DMARCFailure = &dmarc
	trust := formCount(form, "trust_posts", errs) // an empty field means none
	ch.TrustPosts = &trust
	attach := formCount(form, "attach_max_kb", errs) // an empty field means link every file
	ch.AttachMaxKB = &attach
	// The form shows the tag in use (the group's name unless set); left
	// as shown, it is not set, so a tag that follows the name goes on
	// following it. Emptied, the group's email has no tag.
	form["subject_tag"] = strings.TrimSpace(form["subject_tag"])
	if tag := form["subject_tag"]; tag != form["subject_tag_was"] && (tag != "" || !creating) {
		ch.SubjectTag = &tag
	}
	return ch
}

// formCount reads a whole number from field name; empty is 0, and what
// is not a number is told beside the field (the group service checks the
// range).
func formCount(form map[string]string, name string, errs *mailflow.FieldErrors) int {
	t := strings.TrimSpace(form[name])
	if t == "" {
		return 0
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		errs.Add(name, choiceMessages[name])
	}
	return n
}

// resolvePeople reads the owners and whitelist fields: addresses of
// existing, active accounts, found with one query for both.
func (h *handler) resolvePeople(ctx context.Context, form map[string]string, in *groupInput, errs *mailflow.FieldErrors, creating bool) {
	owners, badOwners := mailflow.SplitAddresses(form["owners"])
	white, badWhite := mailflow.SplitAddresses(form["whitelist"])
	if len(badOwners) > 0 {
		errs.Add("owners", "These are not email addresses: "+strings.Join(badOwners, ", ")+".")
	}
	if len(badWhite) > 0 {
		errs.Add("whitelist", "These are not email addresses: "+strings.Join(badWhite, ", ")+".")
	}
	if !creating && len(owners) == 0 && len(badOwners) == 0 {
		errs.Add("owners", "A group needs at least one owner.")
	}
	if len(owners)+len(white) == 0 {
		return
	}
	users, err := h.Store.UsersByEmails(ctx, append(append([]string{}, owners...), white...))
	if err != nil {
		errs.Add("form", "The owners and members could not be checked; try again.")
		h.Log.Error("finding users for a group form", "err", err)
		return
	}
	byEmail := make(map[string]mailflow.User, len(users))
	for _, u := range users {
		byEmail[strings.ToLower(u.Email)] = u
	}
	pick := func(field string, addrs []string) []mailflow.User {
		var out []mailflow.User
		var unknown, inactive []string
		for _, a := range addrs {
			u, ok := byEmail[a]
			switch {
			case !ok:
				unknown = append(unknown, a)
			case u.Status != mailflow.UserActive:
				inactive = append(inactive, a)
			default:
				out = append(out, u)
			}
		}
		if len(unknown) > 0 {
			errs.Add(field, "No account uses "+strings.Join(unknown, ", ")+". People need an account first.")
		}
		if len(inactive) > 0 {
			errs.Add(field, "These accounts are not active: "+strings.Join(inactive, ", ")+".")
		}
		return out
	}
	in.Owners = pick("owners", owners)
	in.Whitelist = pick("whitelist", white)
}

// userIDs lists the ids of users.
func userIDs(us []mailflow.User) []int64 {
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

// emails lists the addresses of members matching keep, one a line, to
// fill the owners and whitelist fields.
func emails(ms []mailflow.Member, keep func(mailflow.Member) bool) string {
	var out []string
	for _, m := range ms {
		if keep(m) {
			out = append(out, m.Email)
		}
	}
	return strings.Join(out, "\n")
}

// groupFormValues fills the form from a group as it is.
func groupFormValues(g mailflow.Group, cats []mailflow.Category) map[string]string {
	f := map[string]string{
		"name": g.Name, "slug": g.Slug, "description": g.Description, "join_policy": string(g.JoinPolicy),
		"member_list_visibility": string(g.MemberListVisibility), "reply_to": string(g.ReplyTo),
		"location": g.Location, "display_location": g.DisplayLocation, "archive": "members",
		"trust_posts": strconv.Itoa(g.TrustPosts), "attach_max_kb": strconv.Itoa(g.AttachMaxKB), "dmarc_failure": string(g.DMARCFailure),
		"subject_tag": g.Tag(), "subject_tag_was": g.Tag(),
	}
	if f["dmarc_failure"] == "" {
		f["dmarc_failure"] = string(mailflow.DMARCHold)
	}
	if g.ArchivePublic {
		f["archive"] = "public"
	}
	for k, on := range map[string]bool{"listed": g.Listed, "moderated": g.Moderated, "official": g.Official} {
		if on {
			f[k] = "1"
		}
	}
	if g.CategoryID != nil {
		for _, c := range cats {
			if c.ID == *g.CategoryID {
				f["category"] = c.Slug
			}
		}
	}
	return f
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
