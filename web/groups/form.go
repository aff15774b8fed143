package groups

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/picture"
)

// groupFields are the inputs of the group form, kept to fill it again.
var groupFields = []string{"name", "slug", "category", "description", "owners", "whitelist", "official", "join_policy",
	"listed", "moderated", "member_list_visibility", "location", "display_location", "archive", "reply_to", "clear_picture", "trust_posts", "dmarc_failure"}

// groupInput is the checked group form.
type groupInput struct {
	Group        mailflow.Group
	Owners       []mailflow.User // create: owners besides the creator; edit: every owner
	Whitelist    []mailflow.User
	Picture      []byte // normalized; nil: keep the current one
	PictureType  string
	ClearPicture bool
}

// fieldLabels name fields in messages ("Name is required").
var fieldLabels = map[string]string{
	"name": "Name", "slug": "The address", "description": "The description", "join_policy": "Who can join",
	"member_list_visibility": "The member list setting", "reply_to": "Replies", "location": "The location",
	"display_location": "The location shown",
}

// addErr records err, from mailflow's shared validation, beside its field
// in words for people.
func addErr(errs *mailflow.FieldErrors, err error) {
	var fe *mailflow.FieldError
	if !errors.As(err, &fe) {
		errs.Add("form", err.Error())
		return
	}
	errs.Add(fe.Field, sentence(fieldLabels[fe.Field], fe.Msg))
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

// parseGroupForm checks the form into in, which holds the group as it
// is (a new group's defaults when creating), and collects every problem.
// creating: the slug is read, and the owners listed are extra ones.
func (h *handler) parseGroupForm(c *gin.Context, actor *mailflow.User, cats []mailflow.Category, form map[string]string,
	in *groupInput, creating bool) *mailflow.FieldErrors {
	errs := &mailflow.FieldErrors{}
	parseGroupText(form, cats, &in.Group, errs, creating)
	parseGroupOptions(form, actor, in, errs)
	in.ClearPicture = form["clear_picture"] == "1"
	h.readPicture(c, in, errs)
	h.resolvePeople(c.Request.Context(), form, in, errs, creating)
	return errs
}

// parseGroupText reads what describes the group: name, slug, category,
// description and locations.
func parseGroupText(form map[string]string, cats []mailflow.Category, g *mailflow.Group, errs *mailflow.FieldErrors, creating bool) {
	if name, err := mailflow.ValidateGroupName(form["name"]); err != nil {
		addErr(errs, err)
	} else {
		g.Name = name
	}
	if creating {
		g.Slug = strings.ToLower(strings.TrimSpace(form["slug"]))
		form["slug"] = g.Slug
		if err := mailflow.ValidateSlug(g.Slug); err != nil {
			addErr(errs, err)
		}
	}
	g.CategoryID = nil
	if form["category"] != "" {
		for _, cat := range cats {
			if cat.Slug == form["category"] {
				g.CategoryID = &cat.ID
			}
		}
		if g.CategoryID == nil {
			errs.Add("category", "Choose a category from the list.")
		}
	}
	g.Description = strings.ReplaceAll(form["description"], "\r\n", "\n")
	if err := mailflow.ValidateDescription(g.Description); err != nil {
		addErr(errs, err)
	}
	g.Location, g.DisplayLocation = strings.TrimSpace(form["location"]), strings.TrimSpace(form["display_location"])
	for field, v := range map[string]string{"location": g.Location, "display_location": g.DisplayLocation} {
		if err := mailflow.ValidateLocation(field, v); err != nil {
			addErr(errs, err)
		}
	}
}

// parseGroupOptions reads the group's policies and switches. Only
// superusers change the official flag (mailflow.CanSetOfficial).
func parseGroupOptions(form map[string]string, actor *mailflow.User, in *groupInput, errs *mailflow.FieldErrors) {
	g := &in.Group
	var err error
	if g.JoinPolicy, err = mailflow.ParseJoinPolicy(form["join_policy"]); err != nil {
		errs.Add("join_policy", "Choose who can join.")
	}
	if g.MemberListVisibility, err = mailflow.ParseVisibility(form["member_list_visibility"]); err != nil {
		errs.Add("member_list_visibility", "Choose who sees the member list.")
	}
	if g.ReplyTo, err = mailflow.ParseReplyTo(form["reply_to"]); err != nil {
		errs.Add("reply_to", "Choose where replies go.")
	}
	switch form["archive"] {
	case "public", "members":
		g.ArchivePublic = form["archive"] == "public"
	default:
		errs.Add("archive", "Choose who can read the archive.")
	}
	g.DMARCFailure = mailflow.DMARCHold // the default, also for a form from before the setting
	if v := form["dmarc_failure"]; v != "" {
		if g.DMARCFailure, err = mailflow.ParseDMARCFailure(v); err != nil {
			errs.Add("dmarc_failure", "Choose what happens to mail failing its domain's DMARC policy.")
		}
	}
	g.Listed, g.Moderated = form["listed"] == "1", form["moderated"] == "1"
	g.TrustPosts = 0 // an empty field means none
	if t := strings.TrimSpace(form["trust_posts"]); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > 100 {
			errs.Add("trust_posts", "Enter a number from 0 to 100.")
		}
		g.TrustPosts = n
	}
	if official := form["official"] == "1"; official != g.Official {
		if mailflow.CanSetOfficial(actor) != nil {
			errs.Add("official", "Only superusers can change whether a group is official.")
		}
		g.Official = official
	}
}

// readPicture normalizes an uploaded picture (the CSRF guard bounded the
// body already).
func (h *handler) readPicture(c *gin.Context, in *groupInput, errs *mailflow.FieldErrors) {
	var problem string
	if in.Picture, in.PictureType, problem = picture.FromForm(c, "picture"); problem != "" {
		errs.Add("picture", problem)
	}
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

// savePicture stores a new picture, or clears it, on the group.
func savePicture(ctx context.Context, tx *store.Store, in *groupInput) error {
	switch {
	case in.Picture != nil:
		key := newPictureKey(in.PictureType)
		if err := tx.PutPicture(ctx, key, in.PictureType, in.Picture); err != nil {
			return err
		}
		in.Group.PictureKey = key
	case in.ClearPicture:
		in.Group.PictureKey = ""
	}
	return nil
}

// newPictureKey is a random key: pictures are served by key, cached for
// good, and a new upload gets a new key.
func newPictureKey(contentType string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	ext := ".jpg"
	if contentType == "image/png" {
		ext = ".png"
	}
	return hex.EncodeToString(b) + ext
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
		"trust_posts": strconv.Itoa(g.TrustPosts), "dmarc_failure": string(g.DMARCFailure),
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
