package threads

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/markup"
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

// highlight makes the HTML of a search result's preview from the
// Markdown of the message with its matches delimited (store.SearchHit's
// Snippet): a plain-text preview (markup.Plain: no marks, no markup,
// entities decoded once) with the delimiters carried through as
// private-use characters, a window of it around the first match, escaped
// whole, and only then those characters made <mark> elements.
func highlight(snippet string) template.HTML {
	const start, stop = '\ue000', '\ue001'
	snippet = strings.NewReplacer(string(start), "", string(stop), "",
		store.HighlightStart, string(start), store.HighlightStop, string(stop)).Replace(snippet)
	r := []rune(markup.Plain(snippet, store.SnippetSource))
	// The window: from a word shortly before the first match, about
	// snippetRunes long, cut at a word.
	from, lead := 0, ""
	if i := slices.Index(r, start); i > snippetLead {
		from = i - snippetLead
		for from < i && r[from-1] != ' ' {
			from++
		}
		lead = "…"
	}
	to, tail := len(r), ""
	if to-from > snippetRunes {
		to = from + snippetRunes
		for j := to; j > from+snippetRunes/2; j-- {
			if r[j] == ' ' {
				to = j
				break
			}
		}
		tail = "…"
	}
	var b strings.Builder
	b.WriteString(lead)
	open := false // a cut or a dropped quote may leave a delimiter alone
	for _, c := range template.HTMLEscapeString(string(r[from:to])) {
		switch {
		case c == start && !open:
			b.WriteString("<mark>")
			open = true
		case c == stop && open:
			b.WriteString("</mark>")
			open = false
		case c != start && c != stop:
			b.WriteRune(c)
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	b.WriteString(tail)
	return template.HTML(b.String())
}

// A search result's preview: about snippetRunes characters, starting
// about snippetLead before the first match.
const snippetRunes, snippetLead = 280, 60
