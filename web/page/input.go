package page

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/web/input"
)

// CheckInput answers the friendly 400 page when the path, the query
// string or the form holds a NUL byte or bytes that are not UTF-8 (see
// package input). It goes after CSRF, which reads and bounds the form;
// a StreamBody route checks its own multipart fields as it reads them.
func (s *Shell) CheckInput(c *gin.Context) {
	if p := input.Check(c.Request); p != nil {
		s.ErrorPage(c, http.StatusBadRequest, mailflow.UpperFirst(p.Error())+
			". Parley takes only text there; nothing was changed.")
		return
	}
	c.Next()
}
