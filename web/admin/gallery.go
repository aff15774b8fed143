package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

const galleryPage = 60

// gallery is the admin gallery: every image posted, as a file or
// attached to a message, in every group, newest first, for superusers
// (who may see every group's files).
func (h *handler) gallery(c *gin.Context) {
	u := session.User(c)
	if !u.IsSuperuser {
		h.Shell.Fail(c, mailflow.Forbidden("the gallery of every group's images is for superusers"))
		return
	}
	pg := pageNumber(c)
	list, err := h.Store.ListResources(c.Request.Context(), store.ResourceQuery{Viewer: store.ResourceViewerOf(u),
		Kind: mailflow.KindImage, AllGroups: true, Limit: galleryPage + 1, Offset: (pg - 1) * galleryPage})
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	list, more := onePage(list, galleryPage)
	h.Shell.HTML(c, http.StatusOK, "admin_gallery", page.Data{Title: "Gallery", Nav: "admin",
		Page: gin.H{"Images": list, "More": more, "Next": pg + 1}})
}
