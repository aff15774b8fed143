package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/groups"
)

// groupOut is a group as the API shows it.
type groupOut struct {
	mailflow.Group
	Category    string               `json:"category,omitempty"`
	Address     string               `json:"address"`
	MemberCount *int                 `json:"member_count,omitempty"`
	Membership  *mailflow.Membership `json:"membership"`
}

// groupIn is the body of POST /groups and PATCH /groups/{slug}: every
// setting of the group service (mailflow/groups), which the form shares.
// Pointers tell "not given" from a zero value, so PATCH changes only what
// it names.
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
	ArchivePublic        *bool   `json:"archive_public"`
	TrustPosts           *int    `json:"trust_posts"`
	AttachMaxKB          *int    `json:"attach_max_kb"`
	DMARCFailure         *string `json:"dmarc_failure"`
	SubjectTag           *string `json:"subject_tag"` // "" for none; never given: the group's name
}

func (in groupIn) change() groups.Change {
	return groups.Change{Slug: in.Slug, Settings: groups.Settings{
		Name: in.Name, Description: in.Description, Category: in.Category, JoinPolicy: in.JoinPolicy,
		Listed: in.Listed, Moderated: in.Moderated, MemberListVisibility: in.MemberListVisibility,
		ReplyTo: in.ReplyTo, Location: in.Location, DisplayLocation: in.DisplayLocation, Official: in.Official,
		ArchivePublic: in.ArchivePublic, TrustPosts: in.TrustPosts, AttachMaxKB: in.AttachMaxKB, DMARCFailure: in.DMARCFailure,
		SubjectTag: in.SubjectTag,
	}}
}

// failGroup answers a create or update error; of several problems, the
// first.
func (h *handler) failGroup(c *gin.Context, err error) {
	var p groups.Problems
	if errors.As(err, &p) && len(p) > 0 {
		err = p[0]
	}
	h.fail(c, err)
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
	g, err := h.Groups.Create(ctx, a, in.change())
	if err != nil {
		h.failGroup(c, err)
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
	g, err := h.Groups.Update(ctx, a, g, m, in.change())
	if err != nil {
		h.failGroup(c, err)
		return
	}
	h.respondGroup(c, http.StatusOK, g, m)
}
