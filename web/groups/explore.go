package groups

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const (
	explorePageSize = 24
	maxExplorePage  = 1000 // deeper offsets are no use to a person, and cost the database
)

// groupCard is a group as Explore shows it.
type groupCard struct {
	store.GroupListing
	Category *categoryView
	Address  string
}

// explore lists the groups a member may join or read, 24 a page, searched
// by words and by place and filtered by category. It is a GET form, so a
// search is a link that can be shared and bookmarked.
func (h *handler) explore(c *gin.Context) {
	ctx := c.Request.Context()
	u := session.User(c)
	form := map[string]string{
		"q":        strings.TrimSpace(c.Query("q")),
		"location": strings.TrimSpace(c.Query("location")),
		"category": c.Query("category"),
	}
	pg, _ := strconv.Atoi(c.Query("page"))
	pg = min(max(pg, 1), maxExplorePage)

	cats, err := h.Store.Categories(ctx)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	q := store.ExploreQuery{ViewerID: u.ID, All: mailflow.CanSeeUnlistedGroups(u), Keyword: form["q"], Location: form["location"],
		Limit: explorePageSize + 1, Offset: (pg - 1) * explorePageSize}
	for _, cat := range cats {
		if cat.Slug == form["category"] {
			q.CategoryID = &cat.ID
		}
	}
	if q.CategoryID == nil {
		form["category"] = "" // an unknown category filters nothing
	}
	list, err := h.Store.ExploreGroups(ctx, q)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	more := len(list) > explorePageSize
	if more {
		list = list[:explorePageSize]
	}
	index := categoryIndex(cats)
	cards := make([]groupCard, len(list))
	for i, l := range list {
		cards[i] = groupCard{GroupListing: l, Address: h.address(l.Group)}
		if l.CategoryID != nil {
			if cv, ok := index[*l.CategoryID]; ok {
				cards[i].Category = &cv
			}
		}
	}
	p := gin.H{
		"Groups": cards, "Categories": cats, "Searched": form["q"] != "" || form["location"] != "" || form["category"] != "",
		"CanCreate": mailflow.CanCreateGroup(u) == nil, "CanManageCategories": mailflow.CanManageCategories(u) == nil,
		"PageNumber": pg,
	}
	if more {
		p["NextURL"] = h.exploreURL(form, pg+1)
	}
	if pg > 1 {
		p["PrevURL"] = h.exploreURL(form, pg-1)
	}
	h.Shell.HTML(c, http.StatusOK, "explore", page.Data{Title: "Explore groups", Nav: "explore", Form: form, Page: p})
}

// exploreURL is the link to another page of the same search, built here
// whole: in a template, a query string put after "?" would be escaped as
// one value, "&" and "=" included.
func (h *handler) exploreURL(form map[string]string, pg int) string {
	v := url.Values{}
	for k, val := range form {
		if val != "" {
			v.Set(k, val)
		}
	}
	if pg > 1 {
		v.Set("page", strconv.Itoa(pg))
	}
	if len(v) == 0 {
		return h.Shell.URL("/explore")
	}
	return h.Shell.URL("/explore") + "?" + v.Encode()
}
