package inbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound/quote"
	"github.com/parleymail/parley/mailflow/inbound/senderauth"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/posting"
	"github.com/parleymail/parley/mailflow/queue"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// ProcessArgs is the job "make sense of received message N".
type ProcessArgs struct {
	InboundID int64 `json:"inbound_id"`
}

// Kind names the job.
func (ProcessArgs) Kind() string { return "process_inbound" }

// processAttempts bounds the tries at one message: with RetryBase's
// doubling delays (10 s, 20 s, 40 s, 80 s) a message that cannot be
// processed is marked failed about 2.5 minutes after it arrived.
const processAttempts = 5

// InsertOpts puts processing on its own queue (see queue.Inbound), so
// that jobs waiting on the memory budget never hold up fan-out or mail,
// and bounds the attempts at one message.
func (ProcessArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queue.Inbound, MaxAttempts: processAttempts}
}

// Processor turns a stored message into posts, replies, commands and
// bounce records, one recipient at a time, and notes the outcome on the
// stored message for admins.
type Processor struct {
	river.WorkerDefaults[ProcessArgs]
	Store      *store.Store
	Posting    *posting.Service
	Keys       sign.Keys
	MailDomain string
	URLs       *urls.Map     // links in its answers
	Notices    notice.Sender // writes and queues them
	Limits     mailparse.Limits
	Log        *slog.Logger
	Bounces    BounceReader // nil: reports are kept for later
	// Library stores the attachments of posted messages as resources of
	// their group (in its blob store); nil keeps them in the raw message only.
	Library *library.Library
	// SenderAuth checks who sent a post (SPF, DKIM, DMARC, or a trusted
	// MTA's Authentication-Results); nil checks nothing, and then no
	// mailed post is authenticated.
	SenderAuth *senderauth.Checker
	// DefaultFrom is DEFAULT_FROM_ADDRESS: mail from it is Parley's own.
	DefaultFrom string
	// RetryBase is the delay before the second attempt at a message; each
	// later one waits twice as long. Zero means 10 seconds.
	RetryBase time.Duration
	Metrics   *metrics.Metrics // nil: not counted
	// Memory bounds the bytes of messages being processed at once in this
	// daemon (NewMemoryBudget); nil: no bound (tests of small mail).
	Memory *MemoryBudget
}

// Work processes one received message. A message that cannot be
// processed is retried a few times (NextRetry), then marked failed with
// the reason, logged at ERROR and counted, for an admin to look at and
// retry: it is never dropped without a trace.
func (p *Processor) Work(ctx context.Context, job *river.Job[ProcessArgs]) error {
	err := p.work(ctx, job.Args.InboundID)
	if err == nil {
		return nil
	}
	if job.Attempt < job.MaxAttempts {
		p.Log.Warn("processing received mail failed; will retry", "inbound_id", job.Args.InboundID,
			"attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", err)
		return err
	}
	reason := fmt.Sprintf("failed after %d attempts: %v", job.Attempt, err)
	// The job's own context may be what ended it (its timeout).
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := p.Store.FinishInbound(mctx, job.Args.InboundID, "failed", reason); ferr != nil {
		p.Log.Error("processing received mail failed, and so did marking it failed; it stays listed as not processed",
			"inbound_id", job.Args.InboundID, "err", err, "mark_err", ferr)
		return errors.Join(err, ferr)
	}
	if p.Metrics != nil {
		p.Metrics.InboundFailed.Inc()
	}
	p.Log.Error("received mail could not be processed; marked failed for an admin", "inbound_id", job.Args.InboundID,
		"attempts", job.Attempt, "err", err)
	return nil
}

// NextRetry spaces the attempts at a message over minutes: RetryBase,
// then twice as long each time.
func (p *Processor) NextRetry(job *river.Job[ProcessArgs]) time.Time {
	base := p.RetryBase
	if base <= 0 {
		base = 10 * time.Second
	}
	return time.Now().Add(base << min(max(job.Attempt-1, 0), 10))
}

// work processes the message once; a panic in the code it calls is an
// error like any other, so that it ends in the same "failed" record.
func (p *Processor) work(ctx context.Context, id int64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	// The message is loaded whole: parsing needs it. The memory budget,
	// reserved before loading, bounds how many bytes are held at once.
	if p.Memory != nil {
		size, err := p.Store.InboundSize(ctx, id)
		if errors.Is(err, mailflow.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		release, err := p.Memory.reserve(ctx, size)
		if err != nil {
			return err
		}
		defer release()
	}
	in, err := p.Store.InboundByID(ctx, id)
	if errors.Is(err, mailflow.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if in.State != "received" {
		return nil // already done (the job ran twice)
	}
	outcomes, err := p.process(ctx, in)
	if err != nil {
		return err // retried by the queue; nothing is lost
	}
	return p.Store.FinishInbound(ctx, in.ID, "processed", strings.Join(outcomes, "; "))
}

func (p *Processor) process(ctx context.Context, in store.Inbound) ([]string, error) {
	msg, perr := mailparse.Parse(in.Raw, p.Limits)
	var auth *senderauth.Result // checked once, when a recipient needs it
	var outcomes []string
	seen := map[string]bool{}
	for _, rcpt := range in.RcptTo {
		r, ok := ParseRecipient(rcpt, p.MailDomain, p.Keys)
		if !ok || seen[strings.ToLower(rcpt)] {
			continue
		}
		seen[strings.ToLower(rcpt)] = true
		if r.Kind == KindBounce {
			out, err := p.bounce(ctx, in, r.Token)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, rcpt+": "+out)
			continue
		}
		if perr != nil || msg == nil {
			outcomes = append(outcomes, rcpt+": rejected: unreadable message ("+errString(perr)+")")
			continue
		}
		why, err := p.loopOrAuto(ctx, in, msg)
		if err != nil {
			return nil, err
		}
		if why != "" {
			if isBounceLike(in, msg) {
				out, err := p.bounce(ctx, in, "")
				if err != nil {
					return nil, err
				}
				why = out
			} else if strings.HasPrefix(why, "loop:") && p.Metrics != nil {
				p.Metrics.InboundLoops.Inc()
			}
			outcomes = append(outcomes, rcpt+": dropped: "+why)
			continue
		}
		if auth == nil {
			a, err := p.checkSender(ctx, in)
			if err != nil {
				return nil, err
			}
			auth = &a
		}
		out, err := p.route(ctx, in, msg, r, *auth)
		if err != nil {
			return nil, err
		}
		outcomes = append(outcomes, rcpt+": "+out)
	}
	return outcomes, nil
}

// BounceReader reads a delivery report that came by mail and applies it
// (bounce.Service is one); token is the VERP token of the address it came
// to, if any. It returns what it did, for the admins' log.
type BounceReader interface {
	FromMail(ctx context.Context, in store.Inbound, token string) (string, error)
}

// bounce hands a delivery report to the bounce code, or keeps it.
func (p *Processor) bounce(ctx context.Context, in store.Inbound, token string) (string, error) {
	if p.Bounces != nil {
		return p.Bounces.FromMail(ctx, in, token)
	}
	return "kept as a delivery report", nil
}

// checkSender checks who sent the message, once: the result is stored
// with it, and a retried job reads it back instead of asking DNS again.
func (p *Processor) checkSender(ctx context.Context, in store.Inbound) (senderauth.Result, error) {
	var res senderauth.Result
	if in.SenderAuth != nil && json.Unmarshal(in.SenderAuth, &res) == nil {
		return res, nil
	}
	if p.SenderAuth == nil {
		res = senderauth.Result{DMARC: "none", Summary: "From not authenticated: sender checks are off"}
	} else {
		res = p.SenderAuth.Check(ctx, senderauth.Input{Raw: in.Raw, RemoteAddr: in.RemoteAddr, Helo: in.Helo, MailFrom: in.MailFrom, Transport: in.Transport})
	}
	b, err := json.Marshal(res)
	if err != nil {
		return res, fmt.Errorf("encoding sender check: %w", err)
	}
	if err := p.Store.SetInboundSenderAuth(ctx, in.ID, b); err != nil {
		return res, err
	}
	p.Log.Info("sender checked", "inbound_id", in.ID, "authenticated", res.Authenticated, "summary", res.Summary)
	return res, nil
}

func (p *Processor) route(ctx context.Context, in store.Inbound, m *mailparse.Message, r Route, auth senderauth.Result) (string, error) {
	g, err := p.Store.GroupBySlug(ctx, r.Slug)
	if errors.Is(err, mailflow.ErrNotFound) {
		return "rejected: the group no longer exists", nil
	}
	if err != nil {
		return "", err
	}
	from := strings.ToLower(m.FromAddress)
	if from == "" {
		from = strings.ToLower(in.MailFrom)
	}
	var author *mailflow.User
	if u, err := p.Store.UserByEmail(ctx, from); err == nil && u.Verified() {
		author = &u
	} else if err != nil && !errors.Is(err, mailflow.ErrNotFound) {
		return "", err
	}
	// Commands act only through the confirmation links they mail to the
	// From address, so they work whatever the authentication says.
	if r.Kind == KindCommand {
		return p.command(ctx, g, author, from, m, r.Command)
	}
	if r.Kind == KindModerate {
		return p.moderate(ctx, g, from, m, r, auth)
	}
	if r.Kind == KindPrivate {
		return p.private(ctx, g, from, in, m, r.Private, auth)
	}
	// "mute" or "follow" alone, to a thread's reply address (issue 19).
	if pref, ok := threadCommand(m); ok && r.Kind == KindReply {
		if out, done, err := p.threadMail(ctx, g, author, m, r, auth, pref); done || err != nil {
			return out, err
		}
	}
	return p.post(ctx, g, author, from, in, m, r, auth)
}

func (p *Processor) post(ctx context.Context, g mailflow.Group, author *mailflow.User, from string, in store.Inbound, m *mailparse.Message, r Route, auth senderauth.Result) (string, error) {
	threadID := r.ThreadID
	if threadID == 0 {
		// A reply finds its thread by the Message-IDs it answers, newest
		// first, within this group only: never by subject.
		ids := append(slices.Clone(m.References), m.InReplyTo...)
		for i := len(ids) - 1; i >= 0 && threadID == 0; i-- {
			prev, err := p.Store.MessageInGroup(ctx, g.ID, ids[i])
			if err == nil {
				threadID = prev.ThreadID
			} else if !errors.Is(err, mailflow.ErrNotFound) {
				return "", err
			}
		}
	}
	body := postText(m, threadID != 0)
	msgID := p.messageID(in, m)
	sub := posting.Submission{
		Author: author, FromEmail: from, ThreadID: threadID, Subject: m.Subject, Body: body,
		Source: mailflow.SourceEmail, RawSource: in.Raw, MessageID: msgID,
		Sender: &mailflow.SenderAuth{Authenticated: auth.Authenticated, DMARCFailed: auth.DMARCFailed(), Summary: auth.Summary},
	}
	if len(m.InReplyTo) > 0 {
		sub.InReplyTo = m.InReplyTo[0]
	}
	if threadID == 0 {
		sub.GroupID = g.ID
		if strings.TrimSpace(sub.Subject) == "" {
			sub.Subject = "(no subject)"
		}
	} else {
		sub.Subject = ""
	}
	files := p.prepareAttachments(ctx, g, author, m)
	sub.Attach = files.record
	acc, err := p.Posting.Accept(ctx, sub)
	files.finish(ctx, err == nil)
	var unauth *posting.UnauthenticatedError
	switch {
	case err == nil:
	case errors.As(err, &unauth):
		// The group refuses mail its From domain disowns (DMARC
		// p=quarantine or p=reject): say why, at most once a day.
		_, err := p.explain(ctx, from, "dmarc:"+g.Slug,
			notice.DMARCRefused{Group: g.Name, GroupAddress: p.groupAddress(g), Reason: unauth.Error(), GroupURL: p.groupURL(g)}, m)
		return "refused: " + auth.Summary, err
	case errors.Is(err, mailflow.ErrDuplicate):
		// The run that posted it may have stopped before its files were
		// stored: store them now (those stored already are skipped).
		prev, perr := p.Store.MessageInGroup(ctx, g.ID, msgID)
		if perr == nil && prev.Source == mailflow.SourceEmail && strings.EqualFold(prev.FromEmail, from) &&
			(prev.Status == mailflow.MessageApproved || prev.Status == mailflow.MessageHeld) {
			p.storeAttachments(ctx, g, author, prev.ID, m)
		}
		return "duplicate: this Message-ID is already in the group", nil
	case errors.Is(err, mailflow.ErrNotMember), errors.Is(err, mailflow.ErrNotFound) && author == nil:
		return p.notMember(ctx, g, from, m)
	case errors.Is(err, mailflow.ErrForbidden), errors.Is(err, mailflow.ErrNotFound):
		// Banned members' mail is dropped without a word.
		return "dropped: " + err.Error(), nil
	case errors.Is(err, mailflow.ErrInvalid):
		p.explain(ctx, from, "notice", notice.NotPosted{Group: g.Name, GroupAddress: p.groupAddress(g), Reason: err.Error()}, m)
		return "rejected: " + err.Error(), nil
	default:
		return "", err
	}
	if acc.Message.Status == mailflow.MessageHeld {
		p.notifyHeld(ctx, g, acc, from, m)
		return fmt.Sprintf("held for moderation (message %d; %s)%s", acc.Message.ID, auth.Summary, files.note()), nil
	}
	return fmt.Sprintf("posted (message %d in thread %d)%s", acc.Message.ID, acc.Thread.ID, files.note()), nil
}

// postText is the text to post from m: a reply's without its quoted
// history and signature (the stored original keeps them).
func postText(m *mailparse.Message, reply bool) string {
	body := m.Text
	if reply {
		var rep quote.Reply
		if strings.TrimSpace(m.Text) == "" && m.HTML != "" {
			rep = quote.SplitHTML(m.HTML)
		} else {
			rep = quote.Split(m.Text)
		}
		if strings.TrimSpace(rep.Text) != "" {
			body = rep.Text
		}
	}
	if strings.TrimSpace(body) == "" {
		body = "(no text)"
	}
	return body
}

// messageID is m's Message-ID. A message without one gets one derived
// from the stored copy, so that processing it again (a retried job)
// finds the post instead of making a second one.
func (p *Processor) messageID(in store.Inbound, m *mailparse.Message) string {
	if m.MessageID != "" {
		return m.MessageID
	}
	return fmt.Sprintf("parley.in.%d@%s", in.ID, p.MailDomain)
}

func (p *Processor) groupAddress(g mailflow.Group) string { return g.Address(p.MailDomain) }

func (p *Processor) groupURL(g mailflow.Group) string { return p.URLs.Group(g.Slug) }

// commandAddress is the group's address for a command (SLUG+cmd@).
func (p *Processor) commandAddress(g mailflow.Group, cmd string) string {
	return g.Slug + "+" + cmd + "@" + p.MailDomain
}

// notMember answers a non-member once a day at most: how to join.
func (p *Processor) notMember(ctx context.Context, g mailflow.Group, from string, m *mailparse.Message) (string, error) {
	sent, err := p.explain(ctx, from, "not-member:"+g.Slug, notice.NotMember{Group: g.Name, GroupAddress: p.groupAddress(g),
		JoinAddress: p.commandAddress(g, CmdSubscribe), GroupURL: p.groupURL(g)}, m)
	if err != nil {
		return "", err
	}
	if sent {
		return "rejected: not a member (told how to join)", nil
	}
	return "rejected: not a member (already told today)", nil
}

// explain sends an automatic answer, at most once a day per address and
// reason, never to automatic mail (the caller checked).
func (p *Processor) explain(ctx context.Context, to, reason string, f notice.Facts, m *mailparse.Message) (bool, error) {
	if to == "" {
		return false, nil
	}
	ok, err := p.Store.ClaimAutoReply(ctx, to, reason)
	if err != nil || !ok {
		return false, err
	}
	return true, p.sendSystem(ctx, notice.Mail{To: to, Facts: f, InReplyTo: m.MessageID, AutoReply: true})
}

func (p *Processor) sendSystem(ctx context.Context, m notice.Mail) error {
	return p.Store.Tx(ctx, func(tx *store.Store) error {
		return p.Notices.Send(ctx, tx, m)
	})
}

// notifyHeld tells the poster that their message will appear once
// approved. (The moderators' notices, with decision links, are queued by
// the posting hook in mailflow/modmail, for every source alike.)
func (p *Processor) notifyHeld(ctx context.Context, g mailflow.Group, acc posting.Accepted, from string, m *mailparse.Message) {
	if _, err := p.explain(ctx, from, "held:"+g.Slug, notice.Held{Group: g.Name, GroupAddress: p.groupAddress(g)}, m); err != nil {
		p.Log.Warn("telling poster about moderation", "err", err)
	}
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func errString(err error) string {
	if err == nil {
		return "empty"
	}
	return err.Error()
}
