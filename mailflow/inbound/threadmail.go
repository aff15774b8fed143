package inbound

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound/quote"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/notice"
)

// threadCommand reads a reply to a thread's reply address whose new text
// (quoted history and signature folded away) is only the word "mute" or
// "follow", in any case, perhaps with a full stop (issue 19).
func threadCommand(m *mailparse.Message) (mailflow.ThreadPref, bool) {
	var rep quote.Reply
	if strings.TrimSpace(m.Text) == "" && m.HTML != "" {
		rep = quote.SplitHTML(m.HTML)
	} else {
		rep = quote.Split(m.Text)
	}
	// A signature above the quoted history is left in the new text:
	// cut at its delimiter, "-- " on a line of its own (RFC 3676 §4.3).
	lines := strings.Split(rep.Text, "\n")
	for i, line := range lines {
		if l := strings.TrimRight(line, "\r"); l == "-- " || l == "--" {
			lines = lines[:i]
			break
		}
	}
	switch strings.ToLower(strings.Trim(strings.TrimSpace(strings.Join(lines, "\n")), ".!")) {
	case "mute":
		return mailflow.ThreadMuted, true
	case "follow":
		return mailflow.ThreadFollowed, true
	}
	return "", false
}

// threadMail acts on a "mute" or "follow" sent to the reply address of
// thread r.ThreadID, and answers with a confirmation and an undo link.
// It acts only for a verified account that is an active member of the
// group, writing from its own address with an authenticated From (as a
// post's privileges need); otherwise it reports false and the message is
// treated as before (a reply).
func (p *Processor) threadMail(ctx context.Context, g mailflow.Group, author *mailflow.User, m *mailparse.Message, r Route,
	auth senderauth.Result, pref mailflow.ThreadPref) (string, bool, error) {
	if author == nil || !auth.Authenticated || author.Status != mailflow.UserActive {
		return "", false, nil
	}
	ms, err := p.Store.Membership(ctx, g.ID, author.ID)
	if err != nil || !ms.Active() {
		return "", false, err
	}
	t, err := p.Store.ThreadByID(ctx, r.ThreadID)
	if errors.Is(err, mailflow.ErrNotFound) || err == nil && t.GroupID != g.ID {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	prev, err := p.Store.SetThreadPref(ctx, author.ID, t.ID, pref)
	if err != nil {
		return "", false, err
	}
	f := notice.ThreadMail{Group: g.Name, Subject: t.Subject, Muted: pref == mailflow.ThreadMuted,
		ThreadURL: p.URLs.Thread(g.Slug, t.ID), UndoLink: p.URLs.ThreadMail(author.ID, t.ID, prev)}
	if err := p.sendSystem(ctx, notice.Mail{To: author.Email, Facts: f, InReplyTo: m.MessageID}); err != nil {
		return "", false, err
	}
	if pref == mailflow.ThreadMuted {
		return fmt.Sprintf("thread %d muted by email", t.ID), true, nil
	}
	return fmt.Sprintf("thread %d followed by email", t.ID), true, nil
}
