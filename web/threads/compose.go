package threads

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// composeGroup is a group the member may start a thread in.
type composeGroup struct {
	Slug, Name string
	Moderated  bool // their post waits for a moderator
}

type composePage struct {
	Groups []composeGroup
	Action string      // the form's action, with the CSRF token (formAction)
	Files  *fileLimits // nil: the form takes no files
}

// postableGroups lists the member's groups where PostDecision lets them
// post (held for moderation is still posting): one query, then policy.
func (h *handler) postableGroups(c *gin.Context, u *mailflow.User) ([]composeGroup, error) {
	ugs, err := h.Store.UserGroups(c.Request.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	var out []composeGroup
	for _, ug := range ugs {
		st, err := mailflow.PostDecision(u, ug.Group, &ug.Membership)
		if err == nil {
			out = append(out, composeGroup{Slug: ug.Group.Slug, Name: ug.Group.Name, Moderated: st == mailflow.MessageHeld})
		}
	}
	return out, nil
}

// composeForm: GET /compose (?group=slug chooses the group).
func (h *handler) composeForm(c *gin.Context) {
	h.renderCompose(c, http.StatusOK, threadForm{Group: c.Query("group")}, nil)
}

func (h *handler) renderCompose(c *gin.Context, status int, f threadForm, errs map[string]string) {
	groups, err := h.postableGroups(c, session.User(c))
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, status, "compose", page.Data{Title: "New conversation", Nav: "compose", Form: f.values(), Errors: errs,
		Page: composePage{Groups: groups, Action: h.formAction(c, "/compose"), Files: h.fileLimits()}})
}

// compose: POST /compose. The group must be one of the member's own
// where they may post; any other slug is simply not among the choices.
func (h *handler) compose(c *gin.Context) {
	f, pf, ok := h.readThreadPost(c)
	if !ok {
		return
	}
	defer h.removeStaged(&pf)
	u := session.User(c)
	groups, err := h.postableGroups(c, u)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	chosen := false
	for _, g := range groups {
		chosen = chosen || g.Slug == f.Group
	}
	if !chosen {
		errs := f.validate()
		errs["group"] = "Choose one of your groups"
		h.renderCompose(c, fileErrors(&pf, errs), f, errs)
		return
	}
	r, ok := h.loadGroupSlug(c, f.Group)
	if !ok {
		return
	}
	h.startThread(c, r, f, &pf)
}
