// Package moderation is a group's moderation panel: the messages held for
// review and the messages members flagged, each with a preview, decided
// one by one or together with "Save changes". Approving goes through
// posting.Service.Decide, the second half of the one accept path, so an
// approved message is delivered exactly as if it had just been posted.
package moderation

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// Deps are what the panel needs.
type Deps struct {
	Shell   *page.Shell
	Store   *store.Store
	Posting *posting.Service
	Log     *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	h := &handler{d}
	rg.GET(urls.ModerationPath, d.Shell.RequireUser, h.panel)
	rg.POST("/g/:slug/moderation", d.Shell.RequireUser, h.save)
	rg.GET("/g/:slug/moderation/flags", d.Shell.RequireUser, h.groupFlagLog)
	rg.GET("/admin/flags", d.Shell.RequireUser, h.siteFlagLog)
}

const logPage = 50

// groupFlagLog is the flag moderation log of one group, for its moderators.
func (h *handler) groupFlagLog(c *gin.Context) {
	g, ok := h.group(c)
	if !ok {
		return
	}
	h.flagLog(c, g.ID, g.Slug, false)
}

// siteFlagLog is the flag moderation log of every group, filtered by
// group on request, for those who moderate all groups.
func (h *handler) siteFlagLog(c *gin.Context) {
	u := session.User(c)
	if !u.Has(mailflow.PermModerateGroups) {
		h.Shell.Fail(c, mailflow.Forbidden("the site's flag log is for those who moderate all groups"))
		return
	}
	var gid int64
	slug := c.Query("group")
	if slug != "" {
		g, err := h.Store.GroupBySlug(c.Request.Context(), slug)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		gid = g.ID
	}
	h.flagLog(c, gid, slug, true)
}

func (h *handler) flagLog(c *gin.Context, groupID int64, slug string, site bool) {
	pg, _ := strconv.Atoi(c.Query("page"))
	pg = max(pg, 1)
	entries, err := h.Store.FlagLog(c.Request.Context(), groupID, logPage+1, (pg-1)*logPage)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	more := len(entries) > logPage
	if more {
		entries = entries[:logPage]
	}
	nav := ""
	if site {
		nav = "admin"
	}
	h.Shell.HTML(c, http.StatusOK, "flag_log", page.Data{Title: "Flag log", Nav: nav, Form: map[string]string{"group": slug},
		Page: gin.H{"Entries": entries, "Group": slug, "Site": site,
			"More": more, "Next": pg + 1}})
}

// group loads the group and checks that the viewer moderates it:
// non-members of a private group get 404, other members 403.
func (h *handler) group(c *gin.Context) (mailflow.Group, bool) {
	u := session.User(c)
	ctx := c.Request.Context()
	g, err := h.Store.GroupBySlug(ctx, c.Param("slug"))
	if err != nil {
		h.Shell.Fail(c, err)
		return g, false
	}
	m, err := h.Store.Membership(ctx, g.ID, u.ID)
	if err != nil {
		h.Shell.Fail(c, err)
		return g, false
	}
	if !mailflow.IsGroupModerator(u, m) {
		if err := mailflow.CanViewGroup(u, g, m); err != nil {
			h.Shell.Fail(c, err)
			return g, false
		}
		h.Shell.Fail(c, mailflow.Forbidden("only the group's owners and moderators see its moderation panel"))
		return g, false
	}
	return g, true
}

// panelLimit bounds one page of the panel; more wait for the next.
const panelLimit = 100

func (h *handler) panel(c *gin.Context) {
	g, ok := h.group(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	held, err := h.Store.HeldMessages(ctx, g.ID, panelLimit)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	flagged, err := h.Store.FlaggedMessages(ctx, g.ID, panelLimit)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, http.StatusOK, "moderation", page.Data{Title: "Moderation · " + g.Name, Page: gin.H{
		"Group": g, "Held": held, "Flagged": flagged}})
}

// save applies every decision of the form: held_<id> = approve | veto |
// (empty: leave it), reason_<id>, and flag_<id> = keep | remove.
func (h *handler) save(c *gin.Context) {
	g, ok := h.group(c)
	if !ok {
		return
	}
	u := session.User(c)
	ctx := c.Request.Context()
	var approved, vetoed, kept, removed int
	var problems []string
	for key, vals := range c.Request.PostForm {
		if len(vals) == 0 || vals[0] == "" {
			continue
		}
		kind, idText, _ := strings.Cut(key, "_")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			continue
		}
		switch kind {
		case "held":
			d := posting.Decision(vals[0])
			m, err := h.Posting.Decide(ctx, u, id, d, strings.TrimSpace(c.PostForm("reason_"+idText)))
			var de *posting.DecidedError
			switch {
			case errors.As(err, &de):
				problems = append(problems, mailflow.UpperFirst(de.Error())+".")
				continue
			case err != nil:
				h.Shell.Fail(c, err)
				return
			}
			if m.GroupID != g.ID {
				continue // decided through another group's panel: allowed (they moderate it), but not counted here
			}
			if d == posting.Approve {
				approved++
			} else {
				vetoed++ // the poster is told by the decision hook (mailflow/modmail)
			}
		case "flag":
			res := map[string]string{"keep": "approved", "remove": "removed"}[vals[0]]
			if res == "" {
				continue
			}
			m, err := h.Store.MessageByID(ctx, id)
			if err != nil || m.GroupID != g.ID {
				continue // never act on another group's message from this panel
			}
			done, err := h.Store.ResolveFlags(ctx, id, u.ID, res)
			if err != nil {
				h.Shell.Fail(c, err)
				return
			}
			if !done {
				continue
			}
			action := "restore"
			if res == "removed" {
				action, removed = "remove", removed+1
			} else {
				kept++
			}
			if err := h.Store.RecordModeration(ctx, store.ModerationAction{GroupID: g.ID, MessageID: &id, TargetUser: m.AuthorID,
				ModeratorID: &u.ID, Action: action}); err != nil {
				h.Log.Warn("recording a flag decision", "err", err)
			}
			if err := h.Store.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Action: "message.flag_" + res, TargetType: "message",
				TargetID: idText, Details: map[string]any{"group": g.Slug}}); err != nil {
				h.Log.Warn("auditing a flag decision", "err", err)
			}
		}
	}
	msg := summary(approved, vetoed, kept, removed)
	if len(problems) > 0 {
		msg += " " + strings.Join(problems, " ")
	}
	h.Shell.Flash(c, msg)
	h.Shell.Redirect(c, "/g/"+g.Slug+"/moderation")
}

func summary(approved, vetoed, kept, removed int) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(approved, "approved")
	add(vetoed, "vetoed")
	add(kept, "flagged kept")
	add(removed, "flagged removed")
	if len(parts) == 0 {
		return "Nothing changed."
	}
	return "Saved: " + strings.Join(parts, ", ") + "."
}
