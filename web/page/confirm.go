package page

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// Confirm is a page with one button: what a link in an email opens, so
// that a link scanner or a preview that fetches it changes nothing, and
// only the person's POST acts.
type Confirm struct {
	Title, Text string
	Action      string            // the path the button posts to
	Fields      map[string]string // hidden fields sent with it (a token)
	Button      string
	Cancel      string // a path for "Not now"; "" shows none
}

// ConfirmPage renders c with 200.
func (s *Shell) ConfirmPage(c *gin.Context, p Confirm) {
	s.HTML(c, http.StatusOK, "confirm", Data{Title: p.Title, Page: p})
}
