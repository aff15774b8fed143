package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/robfig/cron/v3"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/outbound"
	"github.com/parleymail/parley/mailflow/store"
)

// scanBatch is how many members one scan query reads.
const scanBatch = 1000

// Service finds due digests and sends them.
type Service struct {
	Store *store.Store
	// Enqueue queues each digest a scan records as a send job in the
	// same transaction (serve); false leaves them for the caller to send
	// inline (the send-digests command, tests).
	Enqueue   bool
	Renderer  *Renderer
	Transport outbound.Transport
	Schedule  Schedule
	Domain    string
	DKIM      *outbound.DKIM // nil: unsigned
	Log       *slog.Logger
	// Now is the clock a member's pause is judged by when a digest is
	// sent (issue 19); nil: time.Now. The daemon passes its clock.
	Now func() time.Time

	mu    sync.Mutex
	idle  []outbound.Conn // SMTP connections kept between digests
	cache map[groupWindow]cachedItems
}

// groupWindow names one group's messages for one digest window. Members
// in one timezone share their windows, so thousands of digests read each
// group's messages once.
type groupWindow struct {
	group    int64
	from, to time.Time
}

type cachedItems struct {
	items []store.DigestItem
	at    time.Time
}

// cacheFor is how long a group's window is reused: long enough for one
// run over all members, short enough that a message approved late is
// picked up by the members after it.
const cacheFor = 2 * time.Minute

// items returns what a member's digest holds: each digest group's
// messages of the window (shared between members), less those posted
// before the member joined, and less those of threads the member muted
// or was mailed at once because they follow them (mailflow.InDigest),
// in group order.
func (s *Service) items(ctx context.Context, userID int64, delivery string, from, to time.Time) ([]store.DigestItem, error) {
	groups, err := s.Store.DigestMemberships(ctx, userID, delivery)
	if err != nil {
		return nil, err
	}
	choices, err := s.Store.DigestChoicesFor(ctx, userID, from, to)
	if err != nil {
		return nil, err
	}
	var out []store.DigestItem
	for _, g := range groups {
		gi, err := s.groupItems(ctx, g.GroupID, from, to)
		if err != nil {
			return nil, err
		}
		for _, it := range gi {
			// never what was posted before the member could see it
			if !it.CreatedAt.Before(g.JoinedAt) && choices.Keep(it.ThreadID, it.MessageID) {
				out = append(out, it)
			}
			if len(out) >= maxDigestMessages {
				return out, nil
			}
		}
	}
	return out, nil
}

func (s *Service) groupItems(ctx context.Context, groupID int64, from, to time.Time) ([]store.DigestItem, error) {
	k := groupWindow{groupID, from.UTC(), to.UTC()}
	now := time.Now()
	s.mu.Lock()
	c, ok := s.cache[k]
	s.mu.Unlock()
	if ok && now.Sub(c.at) < cacheFor {
		return c.items, nil
	}
	items, err := s.Store.GroupDigestItems(ctx, groupID, from, to, maxDigestMessages)
	if err != nil {
		return nil, err
	}
	if err := s.addFiles(ctx, items); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil || len(s.cache) > 10_000 {
		s.cache = map[groupWindow]cachedItems{}
	}
	s.cache[k] = cachedItems{items: items, at: now}
	return items, nil
}

// addFiles adds each message's files to its item, which the digest
// lists with the member's own links, as group mail does.
func (s *Service) addFiles(ctx context.Context, items []store.DigestItem) error {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.MessageID
	}
	files, err := s.Store.MessageAttachments(ctx, ids)
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Files = files[items[i].MessageID]
	}
	return nil
}

// ScanResult counts what a scan did.
type ScanResult struct {
	Members int
	Created []int64 // digests newly due
}

// Scan records every digest that has come due by now (for one address,
// when email is set) and, with a queue, enqueues each in the same
// transaction. Members are read in batches: memory does not grow with
// their number.
func (s *Service) Scan(ctx context.Context, now time.Time, email string) (ScanResult, error) {
	var res ScanResult
	var after int64
	zones := mailflow.Zones{}
	for {
		batch, err := s.Store.DigestMembers(ctx, after, scanBatch, email, now)
		if err != nil {
			return res, err
		}
		var due []store.NewDigest
		for _, m := range batch {
			loc := zones.Get(m.Timezone) // UTC for a bad one: it must not cost anyone their digest
			for _, p := range []struct {
				on     bool
				period Period
			}{{m.Daily, Daily}, {m.Weekly, Weekly}} {
				if !p.on {
					continue
				}
				at, key := s.Schedule.LastDue(now, loc, p.period)
				due = append(due, store.NewDigest{UserID: m.UserID, Period: string(p.period), Key: key, DueAt: at})
			}
		}
		ids, err := s.Store.CreateDigests(ctx, due, func(tx *store.Store, ids []int64) error {
			if !s.Enqueue {
				return nil
			}
			for _, id := range ids {
				if err := tx.Enqueue(ctx, SendArgs{DigestID: id}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Members += len(batch)
		res.Created = append(res.Created, ids...)
		if len(batch) < scanBatch {
			return res, nil
		}
		after = batch[len(batch)-1].UserID
	}
}

// Send builds and sends one digest. It is idempotent: a digest already
// sent (or found empty) is not sent again. With dryRun it renders and
// reports without sending or recording.
func (s *Service) Send(ctx context.Context, id int64, dryRun bool) (string, error) {
	d, err := s.Store.DigestForSend(ctx, id)
	if err != nil {
		return "", err
	}
	o, err := s.deliver(ctx, d, dryRun)
	return o.Note, err
}

// Outcome is what became of one digest.
type Outcome struct {
	Email, Period string
	Messages      int    // messages in it: sent, or that a dry run would send
	Sent          bool   // it was sent (or, in a dry run, would be)
	Note          string // in words: "sent 3 messages to …", "nothing new", …
}

// deliver builds one digest, d, and sends it (or reports what it would
// send) and records the outcome. The window is (d.PreviousDue, d.DueAt].
func (s *Service) deliver(ctx context.Context, d store.DigestJob, dryRun bool) (Outcome, error) {
	o := Outcome{Email: d.Email, Period: d.Period}
	if d.State != "queued" && !dryRun {
		o.Note = "already " + d.State
		return o, nil
	}
	if d.Suppressed != "" {
		o.Note = "suppressed"
		return o, s.finish(ctx, d.ID, "empty", 0, dryRun)
	}
	if d.Covered {
		o.Note = "nothing new (sent on demand before)"
		return o, s.finish(ctx, d.ID, "empty", 0, dryRun)
	}
	if s.now().Before(d.PausedUntil) {
		// Paused since the digest came due: forgotten, so the first
		// digest after the pause starts where the last one sent ended.
		o.Note = "mail paused"
		if dryRun {
			return o, nil
		}
		return o, s.Store.ForgetPausedDigest(ctx, d.ID)
	}
	from := d.PreviousDue
	if from.IsZero() {
		// A first digest covers the period before it.
		from = d.DueAt.AddDate(0, 0, -1)
		if d.Period == string(Weekly) {
			from = d.DueAt.AddDate(0, 0, -7)
		}
		// and, after a pause, the whole pause (issue 19).
		if !d.PausedAt.IsZero() && d.PausedAt.Before(from) {
			from = d.PausedAt
		}
	}
	delivery := mailflow.DeliveryDigest
	if d.Period == string(Weekly) {
		delivery = mailflow.DeliveryWeekly
	}
	items, err := s.items(ctx, d.UserID, string(delivery), from, d.DueAt)
	if err != nil {
		return o, err
	}
	if len(items) == 0 {
		o.Note = "nothing new"
		return o, s.finish(ctx, d.ID, "empty", 0, dryRun)
	}
	loc, _ := mailflow.Location(d.Timezone)
	member := store.DigestMember{UserID: d.UserID, Email: d.Email, Name: d.Name, Timezone: d.Timezone, PlainText: d.PlainText}
	msg, err := s.Renderer.Render(member, d.ID, Period(d.Period), items, loc, time.Now())
	if err == nil {
		msg, err = s.DKIM.Sign(msg)
	}
	if err != nil {
		return o, err
	}
	o.Messages = len(items)
	if dryRun {
		o.Sent = true
		o.Note = fmt.Sprintf("would send %d messages (%d bytes) to %s", len(items), len(msg), d.Email)
		return o, nil
	}
	conn, err := s.conn(ctx)
	if err != nil {
		return o, err
	}
	// Reports about digests go to no-reply@, where the bounce code reads them.
	err = conn.Send(ctx, "no-reply@"+s.Domain, d.Email, msg)
	s.release(conn, err)
	if err != nil {
		var se *outbound.SendError
		if errors.As(err, &se) && !se.Temporary {
			o.Note = "refused: " + se.Error()
			return o, s.finish(ctx, d.ID, "failed", len(items), false)
		}
		return o, err // the queue retries
	}
	o.Sent = true
	o.Note = fmt.Sprintf("sent %d messages to %s", len(items), d.Email)
	return o, s.finish(ctx, d.ID, "sent", len(items), false)
}

// SendNow sends each digest member (or the one with address email), at
// once, a digest of everything new since their last digest of each
// period they take (Mailman's "send digests now"): one digest on demand
// per member and period, due now, recorded and sent here. The next
// scheduled digest starts where it ended, and a scheduled digest that
// came due before now but was not recorded yet is found empty.
//
// With dryRun nothing is recorded or sent, and the outcomes are what the
// same run would send: each digest is read by the same query
// (store.DigestOnDemand is DigestForSend for a digest not recorded) with
// the same cut-off, now. progress, if set, is told of each digest done.
func (s *Service) SendNow(ctx context.Context, now time.Time, email string, dryRun bool, progress func(done int)) ([]Outcome, error) {
	var out []Outcome
	var after int64
	zones := mailflow.Zones{}
	for {
		batch, err := s.Store.DigestMembers(ctx, after, scanBatch, email, now)
		if err != nil {
			return out, err
		}
		var ds []store.NewDigest
		for _, m := range batch {
			loc := zones.Get(m.Timezone)
			y, mo, d := now.In(loc).Date()
			key := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
			for _, p := range []struct {
				on     bool
				period Period
			}{{m.Daily, Daily}, {m.Weekly, Weekly}} {
				if p.on {
					ds = append(ds, store.NewDigest{UserID: m.UserID, Period: string(p.period), Key: key, DueAt: now, OnDemand: true})
				}
			}
		}
		var ids []int64
		if !dryRun {
			if ids, err = s.Store.CreateDigests(ctx, ds, nil); err != nil {
				return out, err
			}
		}
		for i, nd := range ds {
			var d store.DigestJob
			if dryRun {
				d, err = s.Store.DigestOnDemand(ctx, nd)
			} else {
				d, err = s.Store.DigestForSend(ctx, ids[i]) // ids[i] is one of ds, in whatever order
			}
			var o Outcome
			if err == nil {
				o, err = s.deliver(ctx, d, dryRun)
			}
			if err != nil {
				if dryRun {
					return out, fmt.Errorf("digest for user %d: %w", nd.UserID, err)
				}
				// Nothing queues these again: unrecorded, they leave the
				// members' next digests to start where they did.
				if ferr := s.Store.ForgetDigestsOnDemand(context.WithoutCancel(ctx), ids[i:]); ferr != nil {
					err = errors.Join(err, ferr)
				}
				return out, fmt.Errorf("digest %d: %w", ids[i], err)
			}
			out = append(out, o)
			if progress != nil {
				progress(len(out))
			}
		}
		if len(batch) < scanBatch {
			return out, nil
		}
		after = batch[len(batch)-1].UserID
	}
}

// now is the service's clock.
func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// conn takes an idle SMTP connection, or opens one: digests go out one
// job at a time, and a connection per digest would cost a TCP and EHLO
// (and TLS) handshake each.
func (s *Service) conn(ctx context.Context) (outbound.Conn, error) {
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	return s.Transport.Open(ctx)
}

// release keeps a connection for the next digest, unless it failed at
// the network level or enough are idle already.
func (s *Service) release(c outbound.Conn, err error) {
	var se *outbound.SendError
	if err != nil && (!errors.As(err, &se) || se.Code == 0) {
		_ = c.Close()
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.idle) >= 8 {
		_ = c.Close()
		return
	}
	s.idle = append(s.idle, c)
}

func (s *Service) finish(ctx context.Context, id int64, state string, n int, dryRun bool) error {
	if dryRun {
		return nil
	}
	return s.Store.FinishDigest(ctx, id, state, n)
}

// SendArgs is the job "send digest N".
type SendArgs struct {
	DigestID int64 `json:"digest_id"`
}

// Kind names the job.
func (SendArgs) Kind() string { return "digest_send" }

// SendWorker sends one digest.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Service *Service
}

// Work sends the digest.
func (w *SendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	out, err := w.Service.Send(ctx, job.Args.DigestID, false)
	if err == nil {
		w.Service.Log.Debug("digest", "digest_id", job.Args.DigestID, "outcome", out)
	}
	return err
}

// ScanArgs is the periodic job that finds due digests.
type ScanArgs struct{}

// Kind names the job.
func (ScanArgs) Kind() string { return "digest_scan" }

// ScanWorker runs the scan.
type ScanWorker struct {
	river.WorkerDefaults[ScanArgs]
	Service *Service
	Now     func() time.Time // nil: time.Now
}

// Work scans.
func (w *ScanWorker) Work(ctx context.Context, _ *river.Job[ScanArgs]) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	res, err := w.Service.Scan(ctx, now, "")
	if err == nil && len(res.Created) > 0 {
		w.Service.Log.Info("digests due", "count", len(res.Created), "members", res.Members)
	}
	return err
}

// Periodic is the scan's schedule: DIGEST_CRON (robfig/cron syntax, e.g.
// "*/15 * * * *"), run by river's leader only, and once at start so a
// daemon that was down catches up.
func Periodic(spec string) (*river.PeriodicJob, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_CRON %q: %w", spec, err)
	}
	return river.NewPeriodicJob(sched, func() (river.JobArgs, *river.InsertOpts) {
		return ScanArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Minute}}
	}, &river.PeriodicJobOpts{RunOnStart: true}), nil
}
