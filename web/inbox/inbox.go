// Package inbox holds a member's inbox: every thread of their groups and
// their private threads, newest activity first, with unread and archived
// state, and the count behind the navigation badge.
package inbox

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// Deps are what the inbox needs.
type Deps struct {
	Shell *page.Shell
	Store *store.Store
	Log   *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	_ = &handler{d}
}
