package inbox

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/web/session"
)

// maxSelected bounds the ids one form may name: a page has 50 threads,
// and "Select all" sends none.
const maxSelected = 1000

// action is one bulk action of the inbox form.
type action struct {
	apply func(s *store.Store, ctx context.Context, userID int64, sel store.InboxSelection) (int64, error)
	done  string // "%s archived.", with "1 thread" or "N threads"
	none  string // the flash when nothing needed the change
}

var (
	archive = action{apply: (*store.Store).InboxArchive,
		done: "%s archived.", none: "Nothing to archive: the threads you chose are archived already."}
	markRead = action{apply: (*store.Store).InboxMarkRead,
		done: "%s marked read.", none: "Nothing to mark: the threads you chose are read already."}
	unarchive = action{apply: (*store.Store).InboxUnarchive,
		done: "%s moved to the inbox.", none: "Nothing to move: the threads you chose are in the inbox already."}
)

// bulk handles a bulk action: the threads ticked, or with all=1 every
// thread of the view and group the form was on. The store touches only
// threads the member's inbox lists, whatever ids the form names; then
// the member goes back to the page they were on.
func (h *handler) bulk(a action) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := session.User(c)
		ctx := c.Request.Context()
		groups, err := h.Store.UserGroups(ctx, u.ID)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		f, err := readFilter(c.PostForm, groups)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		sel := store.InboxSelection{All: c.PostForm("all") == "1", View: f.View, GroupID: f.GroupID}
		if !sel.All {
			raw := c.PostFormArray("thread")
			if len(raw) > maxSelected {
				h.Shell.ErrorPage(c, http.StatusBadRequest, fmt.Sprintf("Choose at most %d threads at once, or tick “Select all”.", maxSelected))
				return
			}
			for _, s := range raw {
				id, err := strconv.ParseInt(s, 10, 64)
				if err != nil || id <= 0 {
					h.Shell.ErrorPage(c, http.StatusBadRequest, "The form named a thread that does not exist. Go back, reload the page and try again.")
					return
				}
				sel.ThreadIDs = append(sel.ThreadIDs, id)
			}
			if len(sel.ThreadIDs) == 0 {
				h.Shell.Sessions.SetFlash(c, "error", "Choose some threads first, or tick “Select all”.")
				h.Shell.Redirect(c, f.path(f.View, f.Before))
				return
			}
		}
		n, err := a.apply(h.Store, ctx, u.ID, sel)
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		if n == 0 {
			h.Shell.Flash(c, a.none)
		} else {
			h.Shell.Flash(c, fmt.Sprintf(a.done, threads(n)))
		}
		h.Shell.Redirect(c, f.path(f.View, f.Before))
	}
}

// threads says "1 thread" or "N threads".
func threads(n int64) string {
	if n == 1 {
		return "1 thread"
	}
	return strconv.FormatInt(n, 10) + " threads"
}
