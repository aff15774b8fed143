package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// bounceReports is "Bounce reports": every address's reports, newest
// first, each marked verified or unverified with how it was proven or
// why not. Unverified reports changed nothing; this is where admins see
// them (an address's own log is also at GET /api/v1/bounces/{email}).
func (h *handler) bounceReports(c *gin.Context) {
	if err := mailflow.CanManageDeliverability(session.User(c)); err != nil {
		h.Shell.Fail(c, err)
		return
	}
	show := c.Query("show")
	var verified *bool
	switch show {
	case "verified", "unverified":
		v := show == "verified"
		verified = &v
	default:
		show = ""
	}
	pg := pageNumber(c)
	list, err := h.Store.RecentBounceEvents(c.Request.Context(), verified, pageSize+1, (pg-1)*pageSize)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	list, more := onePage(list, pageSize)
	h.Shell.HTML(c, http.StatusOK, "admin_bounces", page.Data{Title: "Bounce reports", Nav: "admin", Form: map[string]string{"show": show},
		Page: gin.H{"Events": list, "More": more, "Next": pg + 1, "Prev": pg - 1}})
}
