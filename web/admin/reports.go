package admin

import (
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const reportPage = 50

// reportQuery reads search, sort and page from the URL.
func reportQuery(c *gin.Context, limit int) (store.ReportQuery, int) {
	pg := pageNumber(c)
	q := store.ReportQuery{Search: strings.TrimSpace(c.Query("q")), Sort: c.Query("sort"), Desc: c.Query("dir") == "desc"}
	if limit > 0 {
		q.Limit, q.Offset = limit+1, (pg-1)*limit
	}
	return q, pg
}

// reportColumn is a column of a report page: Key is the sort key the
// store knows (empty: the column does not sort), Label its heading.
type reportColumn struct{ Key, Label string }

// The report pages' columns, in the order of their cells. The CSV
// export keeps its own machine-readable names.
var (
	userReportColumns = []reportColumn{{"name", "Name"}, {"email", "Email address"}, {"joined", "Joined"},
		{"last_login", "Last login"}, {"groups", "Groups"}, {"messages", "Messages sent"}, {"flags", "Flags made"},
		{"visits", "Visits"}, {"status", "Status"}}
	groupReportColumns = []reportColumn{{"name", "Group"}, {"messages", "Messages"}, {"threads", "Threads"},
		{"", "Replies"}, {"posters", "People posting"}, {"category", "Category"}, {"", "Location"},
		{"members", "Members"}, {"", "Privacy"}, {"", "Created by"}, {"created", "Created"}}
)

func (h *handler) userReport(c *gin.Context) {
	reportPageOf(h, c, "admin_report_users", "User report", userReportColumns, h.Store.EachUserReportRow)
}

func (h *handler) groupReport(c *gin.Context) {
	reportPageOf(h, c, "admin_report_groups", "Group report", groupReportColumns, h.Store.EachGroupReportRow)
}

// reportPageOf renders one page of a report read by each.
func reportPageOf[R any](h *handler, c *gin.Context, tmpl, title string, cols []reportColumn, each func(context.Context, store.ReportQuery, func(R) error) error) {
	q, pg := reportQuery(c, reportPage)
	var rows []R
	if err := each(c.Request.Context(), q, func(r R) error { rows = append(rows, r); return nil }); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	more := len(rows) > reportPage
	if more {
		rows = rows[:reportPage]
	}
	h.Shell.HTML(c, http.StatusOK, tmpl, page.Data{Title: title, Nav: "admin",
		Form: map[string]string{"q": q.Search, "sort": q.Sort, "dir": c.Query("dir")},
		Page: gin.H{"Columns": cols, "Rows": rows, "More": more, "Page": pg, "Next": pg + 1, "Prev": pg - 1}})
}

// csvStart begins a streamed CSV download. Rows go out as the database
// returns them, flushed every thousand, so memory stays flat however
// many there are; a failure half-way ends the file early (and is logged),
// since the status line has gone.
func csvStart(c *gin.Context, name string) *csv.Writer {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s.csv"`, name, time.Now().UTC().Format("2006-01-02")))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	return csv.NewWriter(c.Writer)
}

func flushEvery(w *csv.Writer, c *gin.Context, n int) {
	if n%1000 == 0 {
		w.Flush()
		c.Writer.Flush()
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (h *handler) userReportCSV(c *gin.Context) {
	q, _ := reportQuery(c, 0)
	w := csvStart(c, "users")
	_ = w.Write([]string{"id", "name", "email", "joined", "last_login", "groups", "messages_sent", "flags_made", "visits", "status"})
	n := 0
	err := h.Store.EachUserReportRow(c.Request.Context(), q, func(r store.UserReportRow) error {
		n++
		flushEvery(w, c, n)
		return w.Write([]string{strconv.FormatInt(r.ID, 10), csvSafe(r.Name), csvSafe(r.Email), r.Joined.UTC().Format(time.RFC3339),
			fmtTime(r.LastLogin), strconv.Itoa(r.Groups), strconv.Itoa(r.Messages), strconv.Itoa(r.Flags), strconv.Itoa(r.Visits), r.Status})
	})
	w.Flush()
	if err != nil {
		h.Log.Error("user report export ended early", "rows", n, "err", err, "by", session.User(c).ID)
	}
}

func (h *handler) groupReportCSV(c *gin.Context) {
	q, _ := reportQuery(c, 0)
	w := csvStart(c, "groups")
	_ = w.Write([]string{"id", "slug", "name", "messages", "threads", "replies", "distinct_posters", "category", "location", "members", "privacy", "creator", "created"})
	n := 0
	err := h.Store.EachGroupReportRow(c.Request.Context(), q, func(r store.GroupReportRow) error {
		n++
		flushEvery(w, c, n)
		return w.Write([]string{strconv.FormatInt(r.ID, 10), r.Slug, csvSafe(r.Name), strconv.Itoa(r.Messages), strconv.Itoa(r.Threads),
			strconv.Itoa(r.Replies), strconv.Itoa(r.Posters), csvSafe(r.Category), csvSafe(r.Location), strconv.Itoa(r.Members),
			r.Privacy, csvSafe(r.Creator), r.Created.UTC().Format(time.RFC3339)})
	})
	w.Flush()
	if err != nil {
		h.Log.Error("group report export ended early", "rows", n, "err", err)
	}
}

// csvSafe defuses spreadsheet formulas: a cell a member controls (their
// name) that starts with = + - @ would run as a formula when an admin
// opens the file in a spreadsheet, so it gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// chart is one dashboard chart, drawn server-side as SVG bars.
type chart struct {
	Title string
	SVG   template.HTML
	Total int
}

func (h *handler) dashboard(c *gin.Context) {
	ctx := c.Request.Context()
	specs := []struct{ key, title string }{
		{"messages", "Messages per day"}, {"deliveries", "Emails delivered per day"}, {"failures", "Deliveries failed per day"},
		{"bounces", "Bounces per day"}, {"complaints", "Spam complaints per day"}, {"members", "New members per week"},
	}
	var charts []chart
	for _, s := range specs {
		periods := 30
		if s.key == "members" {
			periods = 12
		}
		series, err := h.Store.Series(ctx, s.key, periods)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		total := 0
		for _, d := range series {
			total += d.Count
		}
		charts = append(charts, chart{Title: s.title, SVG: barChart(s.title, series, s.key == "members"), Total: total})
	}
	links, err := h.Store.PopularLinks(ctx, 0, 20)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, http.StatusOK, "admin_dashboard", page.Data{Title: "Dashboard", Nav: "admin", Page: gin.H{"Charts": charts, "Links": links}})
}

// barChart draws a series as an accessible SVG bar chart: a <title> per
// bar (the day and its count, read by screen readers and shown on hover)
// and no inline style, which the CSP would refuse.
func barChart(title string, series []store.DailyCount, weekly bool) template.HTML {
	const w, hgt, pad = 600, 160, 24
	peak := 0
	for _, d := range series {
		peak = max(peak, d.Count)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, w, hgt+pad, template.HTMLEscapeString(title))
	bw := float64(w) / float64(max(len(series), 1))
	for i, d := range series {
		if peak == 0 {
			break // nothing to draw: the chart says so below
		}
		bh := float64(hgt) * float64(d.Count) / float64(peak)
		label := d.Day.Format("Mon 2 Jan")
		if weekly {
			label = "week of " + d.Day.Format("2 Jan")
		}
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d</title></rect>`,
			float64(i)*bw+1, float64(hgt)-bh, bw-2, bh, label, d.Count)
	}
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"></line>`, hgt, w, hgt)
	if len(series) > 0 {
		fmt.Fprintf(&b, `<text class="label" x="0" y="%d">%s</text>`, hgt+pad-6, series[0].Day.Format("2 Jan"))
		fmt.Fprintf(&b, `<text class="label end" x="%d" y="%d">%s</text>`, w, hgt+pad-6, series[len(series)-1].Day.Format("2 Jan"))
	}
	if peak == 0 {
		fmt.Fprintf(&b, `<text class="label middle" x="%d" y="%d">No data yet</text></svg>`, w/2, hgt/2)
	} else {
		fmt.Fprintf(&b, `<text class="label" x="0" y="12">peak %d</text></svg>`, peak)
	}
	return template.HTML(b.String())
}
