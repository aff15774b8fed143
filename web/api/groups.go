package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// groupOut is a group as the API shows it.
type groupOut struct {
	mailflow.Group
	Category    string               `json:"category,omitempty"`
	Address     string               `json:"address"`
	MemberCount *int                 `json:"member_count,omitempty"`
	Membership  *mailflow.Membership `json:"membership"`
}

// groupIn is the body of POST /groups and PATCH /groups/{slug}. Pointers
// tell "not given" from a zero value, so PATCH changes only what it names.
type groupIn struct {
	Slug                 *string `json:"slug"`
	Name                 *string `json:"name"`
	Description          *string `json:"description"`
	Category             *string `json:"category"`
	JoinPolicy           *string `json:"join_policy"`
	Listed               *bool   `json:"listed"`
	Moderated            *bool   `json:"moderated"`
	MemberListVisibility *string `json:"member_list_visibility"`
	ReplyTo              *string `json:"reply_to"`
	Location             *string `json:"location"`
	DisplayLocation      *string `json:"display_location"`
	Official             *bool   `json:"official"`
	DMARCFailure         *string `json:"dmarc_failure"`
}

// apply merges the given fields into g, validating each.
func (in groupIn) apply(ctx context.Context, st *store.Store, a *mailflow.User, g *mailflow.Group) error {
	if in.Name != nil {
		name, err := mailflow.ValidateGroupName(*in.Name)
		if err != nil {
			return err
		}
		g.Name = name
	}
	if in.Description != nil {
		if err := mailflow.ValidateDescription(*in.Description); err != nil {
			return err
		}
		g.Description = *in.Description
	}
	if in.Category != nil {
		if *in.Category == "" {
			g.CategoryID = nil
		} else {
			cat, err := st.CategoryBySlug(ctx, *in.Category)
			if errors.Is(err, mailflow.ErrNotFound) {
				return mailflow.Invalid("category", "is not a known category")
			} else if err != nil {
				return err
			}
			g.CategoryID = &cat.ID
		}
	}
	if in.JoinPolicy != nil {
		p, err := mailflow.ParseJoinPolicy(*in.JoinPolicy)
		if err != nil {
			return err
		}
		g.JoinPolicy = p
	}
	if in.Listed != nil {
		g.Listed = *in.Listed
	}
	if in.Moderated != nil {
		g.Moderated = *in.Moderated
	}
	if in.MemberListVisibility != nil {
		v, err := mailflow.ParseVisibility(*in.MemberListVisibility)
		if err != nil {
			return err
		}
		g.MemberListVisibility = v
	}
	if in.ReplyTo != nil {
		r, err := mailflow.ParseReplyTo(*in.ReplyTo)
		if err != nil {
			return err
		}
		g.ReplyTo = r
	}
	if in.DMARCFailure != nil {
		d, err := mailflow.ParseDMARCFailure(*in.DMARCFailure)
		if err != nil {
			return err
		}
		g.DMARCFailure = d
	}
	for field, p := range map[string]*string{"location": in.Location, "display_location": in.DisplayLocation} {
		if p == nil {
			continue
		}
		if err := mailflow.ValidateLocation(field, *p); err != nil {
			return err
		}
	}
	if in.Location != nil {
		g.Location = *in.Location
	}
	if in.DisplayLocation != nil {
		g.DisplayLocation = *in.DisplayLocation
	}
	if in.Official != nil && *in.Official != g.Official {
		if err := mailflow.CanSetOfficial(a); err != nil {
			return err
		}
		g.Official = *in.Official
	}
	return nil
}

// categorySlugs maps category ids to slugs, for showing groups.
func (h *handler) categorySlugs(ctx context.Context) (map[int64]string, error) {
	cats, err := h.Store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(cats))
	for _, c := range cats {
		m[c.ID] = c.Slug
	}
	return m, nil
}

func (h *handler) out(cats map[int64]string, g mailflow.Group, m *mailflow.Membership) groupOut {
	o := groupOut{Group: g, Address: g.Address(h.MailDomain), Membership: m}
	if g.CategoryID != nil {
		o.Category = cats[*g.CategoryID]
	}
	return o
}

// respondGroup answers with one group.
func (h *handler) respondGroup(c *gin.Context, code int, g mailflow.Group, m *mailflow.Membership) {
	cats, err := h.categorySlugs(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(code, h.out(cats, g, m))
}

// createGroup: POST /groups; the creator becomes its first owner.
func (h *handler) createGroup(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	if err := mailflow.CanCreateGroup(a); err != nil {
		h.fail(c, err)
		return
	}
	var in groupIn
	if !decode(c, &in) {
		return
	}
	if in.Slug == nil {
		h.fail(c, mailflow.Invalid("slug", "is required"))
		return
	}
	if err := mailflow.ValidateSlug(*in.Slug); err != nil {
		h.fail(c, err)
		return
	}
	if in.Name == nil {
		h.fail(c, mailflow.Invalid("name", "is required"))
		return
	}
	g := mailflow.Group{
		Slug: *in.Slug, JoinPolicy: mailflow.JoinOpen, Listed: true,
		MemberListVisibility: mailflow.VisibleToMembers, ReplyTo: mailflow.ReplyToGroup,
	}
	if err := in.apply(ctx, h.Store, a, &g); err != nil {
		h.fail(c, err)
		return
	}
	g, err := h.Store.CreateGroup(ctx, g, a.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	m, err := h.Store.Membership(ctx, g.ID, a.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/groups/"+g.Slug)
	h.respondGroup(c, http.StatusCreated, g, m)
}

// listGroups: GET /groups: the groups the caller may see.
func (h *handler) listGroups(c *gin.Context) {
	limit, offset, ok := page(c)
	if !ok {
		return
	}
	a := actor(c)
	list, err := h.Store.ListGroups(c.Request.Context(), a.ID, a.IsSuperuser, limit, offset)
	if err != nil {
		h.fail(c, err)
		return
	}
	cats, err := h.categorySlugs(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]groupOut, 0, len(list))
	for _, l := range list {
		o := h.out(cats, l.Group, l.Membership)
		n := l.MemberCount
		o.MemberCount = &n
		out = append(out, o)
	}
	c.JSON(http.StatusOK, gin.H{"groups": out, "limit": limit, "offset": offset})
}

// loadGroup reads the group named in the path and the caller's membership,
// and answers 404 when the caller may not see it.
func (h *handler) loadGroup(c *gin.Context) (mailflow.Group, *mailflow.Membership, bool) {
	ctx := c.Request.Context()
	g, err := h.Store.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		h.fail(c, err)
		return g, nil, false
	}
	m, err := h.Store.Membership(ctx, g.ID, actor(c).ID)
	if err == nil {
		err = mailflow.CanViewGroup(actor(c), g, m)
	}
	if err != nil {
		h.fail(c, err)
		return g, nil, false
	}
	return g, m, true
}

// getGroup: GET /groups/{slug}.
func (h *handler) getGroup(c *gin.Context) {
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	h.respondGroup(c, http.StatusOK, g, m)
}

// updateGroup: PATCH /groups/{slug}, for owners and superusers.
func (h *handler) updateGroup(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	g, m, ok := h.loadGroup(c)
	if !ok {
		return
	}
	if err := mailflow.CanEditGroup(a, g, m); err != nil {
		h.fail(c, err)
		return
	}
	var in groupIn
	if !decode(c, &in) {
		return
	}
	if in.Slug != nil && *in.Slug != g.Slug {
		// The slug is the group's email address: changing it would break
		// every reply to mail already sent.
		h.fail(c, mailflow.Invalid("slug", "cannot be changed"))
		return
	}
	if err := in.apply(ctx, h.Store, a, &g); err != nil {
		h.fail(c, err)
		return
	}
	var err error
	err = h.Store.Tx(ctx, func(tx *store.Store) error {
		if g, err = tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &a.ID, Action: "group.update", TargetType: "group", TargetID: g.Slug})
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respondGroup(c, http.StatusOK, g, m)
}
