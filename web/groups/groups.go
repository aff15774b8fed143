// Package groups holds the pages of groups: Explore, a group's page,
// creating and editing groups, members, joining and leaving, requests and
// invitations, and the categories Explore is sorted by.
package groups

import (
	"context"
	"log/slog"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/page"
)

// Mailer queues an email in the caller's transaction (the job queue).
type Mailer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) error
}

// Deps are what the group pages need.
type Deps struct {
	Shell      *page.Shell
	Store      *store.Store
	Mailer     Mailer
	Keys       sign.Keys // signs invitation links
	Origin     *url.URL
	MailDomain string // a group's address is SLUG@MAIL_DOMAIN
	Log        *slog.Logger
}

type handler struct{ Deps }

// Register adds the routes; rg has the session, CSRF and terms guards.
func Register(rg *gin.RouterGroup, d Deps) {
	_ = &handler{d}
}
