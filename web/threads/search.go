package threads

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Search limits.
const (
	searchPerPage = 20
	maxQuery      = 200 // characters
)

type searchResult struct {
	Path      string // the message in its thread
	GroupName string
	GroupSlug string
	Subject   string
	Author    author
	CreatedAt time.Time
	Snippet   template.HTML
}

type searchPage struct {
	Query      string
	Group      *mailflow.Group // searching one group; nil: every group the viewer reads
	Results    []searchResult
	Searched   bool
	TZ         string
	Prev, Next string
}

// search: GET /search?q=…&group=slug&page=N. Full-text search across the
// groups the viewer reads (signed out: public archives), or in one group.
func (h *handler) search(c *gin.Context) {
	u := session.User(c)
	q := strings.TrimSpace(c.Query("q"))
	p := searchPage{Query: q, TZ: "UTC"}
	if u != nil && u.Timezone != "" {
		p.TZ = u.Timezone
	}
	var groupID int64
	if slug := c.Query("group"); slug != "" {
		r, ok := h.loadGroupSlug(c, slug)
		if !ok {
			return
		}
		if err := mailflow.CanReadArchive(r.user, r.group, r.membership, r.group.ArchivePublic); err != nil {
			h.deny(c, r, err)
			return
		}
		p.Group, groupID = &r.group, r.group.ID
	}
	if q == "" {
		h.renderSearch(c, http.StatusOK, p, nil)
		return
	}
	if utf8.RuneCountInString(q) > maxQuery {
		h.renderSearch(c, http.StatusUnprocessableEntity, p, map[string]string{"q": "Search for at most " + strconv.Itoa(maxQuery) + " characters"})
		return
	}
	n := pageNumber(c)
	hits, err := h.Store.SearchMessages(c.Request.Context(), q, mailflow.ScopeOf(u), groupID, searchPerPage+1, (n-1)*searchPerPage)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	p.Searched = true
	if len(hits) > searchPerPage {
		hits = hits[:searchPerPage]
		p.Next = searchPath(q, p.Group, n+1)
	}
	if n > 1 {
		p.Prev = searchPath(q, p.Group, n-1)
	}
	for _, hit := range hits {
		// Search shows no one an address: moderators find those on the
		// thread page.
		p.Results = append(p.Results, searchResult{
			Path:      threadPath(hit.GroupSlug, hit.ThreadID) + "#m" + strconv.FormatInt(hit.MessageID, 10),
			GroupName: hit.GroupName, GroupSlug: hit.GroupSlug, Subject: hit.ThreadSubject,
			Author:    authorOf(hit.AuthorID, hit.AuthorName, "", hit.FromEmail, nil, false, u != nil),
			CreatedAt: hit.CreatedAt, Snippet: highlight(hit.Snippet),
		})
	}
	h.renderSearch(c, http.StatusOK, p, nil)
}

func (h *handler) renderSearch(c *gin.Context, status int, p searchPage, errs map[string]string) {
	title := "Search"
	if p.Query != "" {
		title = "Search: " + p.Query
	}
	h.Shell.HTML(c, status, "search", page.Data{Title: title, Nav: "search", Errors: errs, Page: p})
}

func searchPath(q string, g *mailflow.Group, n int) string {
	v := url.Values{"q": {q}, "page": {strconv.Itoa(n)}}
	if g != nil {
		v.Set("group", g.Slug)
	}
	return "/search?" + v.Encode()
}

// highlight makes HTML of a search snippet: the whole text is escaped
// first, so nothing a member wrote can become markup, and only then do
// the store's match delimiters (which the body cannot contain) become
// <mark> elements.
func highlight(snippet string) template.HTML {
	s := template.HTMLEscapeString(snippet)
	s = strings.NewReplacer(store.HighlightStart, "<mark>", store.HighlightStop, "</mark>").Replace(s)
	return template.HTML(s)
}
