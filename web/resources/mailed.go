package resources

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/sign"
)

// mailedDownload: GET /files/:token, the link group mail and digests
// give for each of a message's files (urls.Map.File). It is the
// recipient's own: it downloads the file without signing in, as an
// attachment would have, but only while that member may still see it
// (mailflow.CanAccessResource, checked now, not when the mail was
// sent), so leaving the group, a ban, or the message being removed
// closes it. Anyone else gets the 404 page. It only reads, so a mail
// scanner that opens it changes nothing.
func (h *handler) mailedDownload(c *gin.Context) {
	l, err := h.Keys.Verify(c.Param("token"), time.Now())
	var id int64
	if err == nil && l.Purpose == sign.PurposeFile {
		id, err = strconv.ParseInt(l.Value, 10, 64)
	} else {
		err = sign.ErrBadToken
	}
	if err != nil {
		h.Shell.ErrorPage(c, http.StatusNotFound, "This link is not valid: open the file from the group's page instead.")
		return
	}
	u, err := h.Store.UserByID(c.Request.Context(), l.UserID)
	if errors.Is(err, mailflow.ErrNotFound) {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	if r, ok := h.loadFor(c, &u, id); ok {
		h.sendFile(c, r)
	}
}
