// Package threads holds the pages of conversations: a thread and its
// messages, starting a thread and replying (through the one
// accept-a-message path, so web posts are mailed like any other), writing
// to a group's owners, flagging, the group archive with its mbox
// downloads, and search.
package threads

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// Deps are what the thread pages need.
type Deps struct {
	Shell      *page.Shell
	Store      *store.Store
	Posting    *posting.Service
	MailDomain string
	Log        *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	_ = &handler{d}
}
