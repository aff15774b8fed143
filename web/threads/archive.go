package threads

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// monthThreadsPerPage is the length of a page of a month's threads.
const monthThreadsPerPage = 50

type monthView struct {
	Key     string // 2006-01, as in the month's path
	Label   string // January 2006
	Threads int
}

type archivePage struct {
	Group       mailflow.Group
	Months      []monthView
	CanDownload bool
}

type archiveMonthPage struct {
	Group       mailflow.Group
	Month       monthView
	Threads     []store.MonthThread
	TZ          string
	CanDownload bool
	Prev, Next  string // the pages around this one; "" at either end
}

// loadArchive reads the group in the path and checks that the reader
// reads its archive: members, readers of a public group, and anyone when
// the archive is public.
func (h *handler) loadArchive(c *gin.Context) (reader, bool) {
	r, ok := h.loadGroup(c)
	if !ok {
		return r, false
	}
	if err := mailflow.CanReadArchive(r.user, r.group, r.membership, r.group.ArchivePublic); err != nil {
		h.deny(c, r, err)
		return r, false
	}
	return r, true
}

// archive: GET /g/:slug/archive, the months with their thread counts.
func (h *handler) archive(c *gin.Context) {
	r, ok := h.loadArchive(c)
	if !ok {
		return
	}
	months, err := h.Store.ArchiveMonths(c.Request.Context(), r.group.ID, r.viewer())
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	p := archivePage{Group: r.group, CanDownload: mailflow.CanDownloadRaw(r.user, r.membership) == nil}
	for _, m := range months {
		p.Months = append(p.Months, monthView{Key: m.Month.Format("2006-01"), Label: m.Month.Format("January 2006"), Threads: m.Threads})
	}
	h.Shell.HTML(c, http.StatusOK, "archive", page.Data{Title: "Archive of " + r.group.Name, Page: p})
}

// parseMonth reads a month of the path (2006-01) as the UTC month
// [from, to); anything else is no month.
func parseMonth(s string) (from, to time.Time, ok bool) {
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Format("2006-01") != s {
		return from, to, false
	}
	return t, t.AddDate(0, 1, 0), true
}

// archiveMonth: GET /g/:slug/archive/:month, the threads started that
// month, oldest first, a page at a time (?page=2).
func (h *handler) archiveMonth(c *gin.Context) {
	r, ok := h.loadArchive(c)
	if !ok {
		return
	}
	from, to, ok := parseMonth(c.Param("month"))
	if !ok {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	n := pageNumber(c)
	threads, err := h.Store.ArchiveMonthThreads(c.Request.Context(), r.group.ID, from, to, r.viewer(),
		monthThreadsPerPage+1, (n-1)*monthThreadsPerPage)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	key := c.Param("month")
	p := archiveMonthPage{Group: r.group, Month: monthView{Key: key, Label: from.Format("January 2006")}, TZ: r.tz(),
		CanDownload: mailflow.CanDownloadRaw(r.user, r.membership) == nil}
	base := "/g/" + r.group.Slug + "/archive/" + key
	if len(threads) > monthThreadsPerPage {
		threads = threads[:monthThreadsPerPage]
		p.Next = base + "?page=" + strconv.Itoa(n+1)
	}
	if n > 1 {
		p.Prev = base + "?page=" + strconv.Itoa(n-1)
	}
	p.Threads = threads
	h.Shell.HTML(c, http.StatusOK, "archive_month", page.Data{Title: p.Month.Label + " · " + r.group.Name, Page: p})
}

// pageNumber reads ?page=N (from 1); anything else is the first page. A
// page far past the end is simply empty.
func pageNumber(c *gin.Context) int {
	n, err := strconv.Atoi(c.Query("page"))
	if err != nil || n < 1 || n > 10_000 {
		return 1
	}
	return n
}
