package admin

import (
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/accounts"
	"github.com/parleymail/parley/web/page"
	"github.com/parleymail/parley/web/session"
)

// inviteForm is "Invite people": addresses pasted or in a CSV file, to
// Parley or straight into a group.
func (h *handler) inviteForm(c *gin.Context) {
	h.renderInvite(c, http.StatusOK, nil, nil, nil)
}

func (h *handler) renderInvite(c *gin.Context, status int, form, errs map[string]string, res *accounts.InviteResult) {
	groups, err := h.Store.ListGroups(c.Request.Context(), 0, true, 1000, 0)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.Shell.HTML(c, status, "admin_invite", page.Data{Title: "Invite people", Nav: "admin", Form: form, Errors: errs,
		Page: gin.H{"Groups": groups, "Result": res}})
}

// maxInvites bounds one batch: more is a job for import-members.
const maxInvites = 2000

func (h *handler) invite(c *gin.Context) {
	form := page.FormValues(c, "addresses", "group")
	addrs := strings.FieldsFunc(form["addresses"], func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			h.Shell.Fail(c, err)
			return
		}
		more, err := csvAddresses(f)
		f.Close()
		if err != nil {
			h.renderInvite(c, http.StatusUnprocessableEntity, form, map[string]string{"file": err.Error()}, nil)
			return
		}
		addrs = append(addrs, more...)
	}
	if len(addrs) == 0 {
		h.renderInvite(c, http.StatusUnprocessableEntity, form, map[string]string{"addresses": "Enter at least one address, or choose a CSV file."}, nil)
		return
	}
	if len(addrs) > maxInvites {
		h.renderInvite(c, http.StatusUnprocessableEntity, form, map[string]string{"addresses": "At most 2,000 addresses at once; use parleyd import-members for more."}, nil)
		return
	}
	var group *mailflow.Group
	if form["group"] != "" {
		g, err := h.Store.GroupBySlug(c.Request.Context(), form["group"])
		if err != nil {
			h.renderInvite(c, http.StatusUnprocessableEntity, form, map[string]string{"group": "Choose a group from the list."}, nil)
			return
		}
		group = &g
	}
	res, err := h.Accounts.Invite(c.Request.Context(), *session.User(c), addrs, group)
	if err != nil {
		h.Shell.Fail(c, err)
		return
	}
	h.renderInvite(c, http.StatusOK, map[string]string{"group": form["group"]}, nil, &res)
}

// csvAddresses reads the "email" column of a CSV file with a header row
// (or the first column, when no header names it).
func csvAddresses(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, errors.New("the file is not CSV: " + err.Error())
	}
	col, out := 0, []string{}
	for i, h := range head {
		if strings.Contains(strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))), "email") {
			col = i
		}
	}
	if !strings.Contains(strings.Join(head, ""), "@") {
		head = nil // a header row, not an address
	} else {
		out = append(out, head[col])
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, errors.New("the file is not CSV: " + err.Error())
		}
		if col < len(rec) {
			out = append(out, rec[col])
		}
	}
}
