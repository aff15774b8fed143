package inbound

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/mail"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/store"
)

// loopOrAuto says why a message must not be distributed or answered:
// Parley's own mail coming back (its headers, its List-Id, or sent from
// one of its addresses), and automatic mail (RFC 3834).
func (p *Processor) loopOrAuto(ctx context.Context, in store.Inbound, m *mailparse.Message) (string, error) {
	for _, v := range m.XLoop {
		if strings.Contains(strings.ToLower(v), "@"+p.MailDomain) {
			return "loop: it carries our X-Loop header", nil
		}
	}
	if strings.HasPrefix(m.MessageID, "parley.") && strings.HasSuffix(m.MessageID, "@"+p.MailDomain) {
		return "loop: it is a message Parley sent", nil
	}
	// RFC 2919: Parley's List-Id is <SLUG.MAIL_DOMAIN>; a message that
	// carries one was distributed by one of our groups.
	if slug, ok := strings.CutSuffix(strings.ToLower(m.ListID), "."+strings.ToLower(p.MailDomain)); ok && slug != "" {
		own, err := p.isGroup(ctx, slug)
		if err != nil {
			return "", err
		}
		if own {
			return "loop: it carries the List-Id of our group " + slug, nil
		}
	}
	for _, a := range []struct{ what, addr string }{{"From", m.FromAddress}, {"envelope sender", in.MailFrom}} {
		own, err := p.ownAddress(ctx, a.addr)
		if err != nil {
			return "", err
		}
		if own {
			return "loop: its " + a.what + " " + strings.ToLower(a.addr) + " is one of Parley's own addresses", nil
		}
	}
	if isBounceLike(in, m) {
		return "a delivery report", nil
	}
	if m.AutoSubmitted != "" && m.AutoSubmitted != "no" {
		return "automatic mail (Auto-Submitted: " + m.AutoSubmitted + ")", nil
	}
	switch m.Precedence {
	case "bulk", "junk", "list", "auto_reply":
		return "automatic mail (Precedence: " + m.Precedence + ")", nil
	}
	if m.IsAutoReply {
		return "an automatic reply (vacation or out of office)", nil
	}
	return "", nil
}

// ownAddress reports whether addr is one Parley sends from or answers
// at: a group's address (SLUG@, SLUG+anything@), the VERP bounce
// addresses (bounces+…@), and DEFAULT_FROM_ADDRESS.
func (p *Processor) ownAddress(ctx context.Context, addr string) (bool, error) {
	addr = strings.ToLower(strings.TrimSpace(addr))
	if addr == "" {
		return false, nil
	}
	if p.DefaultFrom != "" && addr == strings.ToLower(p.DefaultFrom) {
		return true, nil
	}
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || domain != strings.ToLower(p.MailDomain) {
		return false, nil
	}
	base, _, _ := strings.Cut(local, "+")
	if base == "bounces" {
		return true, nil
	}
	return p.isGroup(ctx, base)
}

// isGroup reports whether a group has this slug.
func (p *Processor) isGroup(ctx context.Context, slug string) (bool, error) {
	if slug == "" {
		return false, nil
	}
	_, err := p.Store.GroupBySlug(ctx, slug)
	switch {
	case errors.Is(err, mailflow.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// isBounceLike: mail from the null sender or from a mailer daemon, and
// any multipart/report (RFC 6522: feedback loops send complaints from
// ordinary addresses), is a delivery report whatever address it came
// to. The bounce code acts on it only if it proves itself.
func isBounceLike(in store.Inbound, m *mailparse.Message) bool {
	local := strings.ToLower(m.FromAddress)
	if at := strings.IndexByte(local, '@'); at >= 0 {
		local = local[:at]
	}
	return in.MailFrom == "" || local == "mailer-daemon" || local == "postmaster" || isReport(in.Raw)
}

// isReport reports a top-level multipart/report (RFC 6522 §3) of a
// delivery status (RFC 3464) or feedback (RFC 5965) report.
func isReport(raw []byte) bool {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" {
		return false
	}
	switch strings.ToLower(params["report-type"]) {
	case "delivery-status", "feedback-report":
		return true
	}
	return false
}
