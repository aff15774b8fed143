package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/metrics"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// SenderConfig tunes a Sender.
type SenderConfig struct {
	Workers   int           // parallel connections (EMAIL_CONCURRENCY)
	RateLimit float64       // messages per second across workers; 0: none (EMAIL_RATE_LIMIT)
	Batch     int           // deliveries claimed at a time per worker
	Lease     time.Duration // how long a claimed delivery is ours before another sender may take it
	RetryFor  time.Duration // temporary failures are retried this long, then fail
	RetryBase time.Duration // the first retry's delay; doubles up to an hour
	Poll      time.Duration // how often an idle worker looks for work
	// Failures scores a relay's permanent refusal (5xx) of a delivery
	// (bounce.Service is one); nil: refusals only fail the delivery.
	Failures FailureScorer
	// Files holds the files of messages, for groups that attach them to
	// group email (Group.AttachMaxKB); nil: files are always linked.
	Files blobstore.Store
}

// FailureScorer is told when the relay refuses a delivery for good.
type FailureScorer interface {
	OnSendFailure(ctx context.Context, deliveryID int64, email string, code int, enhanced, msg string)
}

// Sender sends due deliveries: each worker claims a batch, renders each
// email for its recipient, sends it over its own reused connection, and
// records the outcome. A delivery is marked sent right after the server's
// 250; the worker goes on with the next message while that record is
// written, and waits for it before recording the next one (see
// sentRecord), so a crash can resend at most two messages per worker: the
// one being recorded and the one on the wire.
type Sender struct {
	store     *store.Store
	renderer  *Renderer
	transport Transport
	keys      sign.Keys
	urls      *urls.Map
	domain    string
	metrics   *metrics.Metrics
	log       *slog.Logger
	cfg       SenderConfig
	limiter   *rate.Limiter
	wake      chan struct{}
	marks     chan markReq
	busy      atomic.Int32 // workers holding a claimed batch: the marker's batch size

	mu       sync.Mutex
	prepared map[int64]prepared // per message, rendered once
	order    []int64            // insertion order, to bound the cache
}

// NewSender returns a Sender; Run starts it.
func NewSender(st *store.Store, r *Renderer, t Transport, keys sign.Keys, u *urls.Map, mailDomain string, m *metrics.Metrics, log *slog.Logger, cfg SenderConfig) *Sender {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Batch <= 0 {
		cfg.Batch = 50
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 72 * time.Hour
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	lim := rate.NewLimiter(rate.Inf, 1)
	if cfg.RateLimit > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.RateLimit), max(1, int(cfg.RateLimit)))
	}
	return &Sender{
		store: st, renderer: r, transport: t, keys: keys, urls: u, domain: mailDomain,
		metrics: m, log: log, cfg: cfg, limiter: lim,
		wake: make(chan struct{}, cfg.Workers), prepared: map[int64]prepared{},
		marks: make(chan markReq, cfg.Workers),
	}
}

// Wake tells idle workers there is work, without waiting for their poll.
func (s *Sender) Wake() {
	// One token per worker: each idle worker wakes, and a busy one finds
	// its token when it next runs dry.
	for range s.cfg.Workers {
		select {
		case s.wake <- struct{}{}:
		default:
			return
		}
	}
}

// Run works until ctx ends, then returns once every worker has settled or
// handed back what it held.
func (s *Sender) Run(ctx context.Context) {
	listenDone := make(chan struct{})
	go func() {
		defer close(listenDone)
		s.store.ListenDeliveries(ctx, s.Wake, s.log)
	}()
	markerDone := make(chan struct{})
	go func() {
		defer close(markerDone)
		s.marker()
	}()
	var wg sync.WaitGroup
	for i := range s.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(ctx, i)
		}()
	}
	wg.Wait()
	close(s.marks) // no worker is left to send on it
	<-markerDone
	<-listenDone
}

// markReq asks the marker to record one delivery as sent.
type markReq struct {
	id   int64
	done chan error
}

// marker records sent deliveries for all workers, with group commit.
// Each worker has at most one record outstanding (see sentRecord), which
// keeps the duplicate bound; so the most one UPDATE can carry is one
// record per busy worker, and the marker waits a moment for that many
// before it writes. A statement costs PostgreSQL tens of microseconds
// however few rows it touches: taking whatever happened to be queued
// (about one and a half records) cost more database time per message
// than everything else in the fan-out. The wait is bounded by
// gatherWait, shorter than the time a worker takes to send its next
// message, so no worker stands still for it.
func (s *Sender) marker() {
	batch := make([]markReq, 0, 64)
	ids := make([]int64, 0, 64)
	timer := time.NewTimer(0)
	<-timer.C
	for req := range s.marks {
		batch = append(batch[:0], req)
		batch = s.gather(batch, timer)
		ids = ids[:0]
		for _, r := range batch {
			ids = append(ids, r.id)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.store.MarkSent(ctx, ids...)
		cancel()
		for _, r := range batch {
			r.done <- err
		}
	}
}

// gatherWait bounds how long the marker waits for the other busy
// workers' records once it holds one.
const gatherWait = 500 * time.Microsecond

// gather adds to batch the records that arrive until there is one per
// busy worker, gatherWait has passed, or the queue is closed.
func (s *Sender) gather(batch []markReq, timer *time.Timer) []markReq {
	want := min(max(int(s.busy.Load()), 1), cap(batch))
	timer.Reset(gatherWait)
	defer func() {
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}()
	for len(batch) < want {
		select {
		case r, ok := <-s.marks:
			if !ok {
				return batch
			}
			batch = append(batch, r)
		case <-timer.C:
			// Take what else is queued, and go.
			for len(batch) < cap(batch) {
				select {
				case r, ok := <-s.marks:
					if !ok {
						return batch
					}
					batch = append(batch, r)
				default:
					return batch
				}
			}
			return batch
		}
	}
	return batch
}

// sentRecord is a worker's "sent" record on its way to the database.
// The worker sends its next message meanwhile (the record's commit no
// longer stands between two messages) and waits for the record before it
// asks for another, so that at any instant at most two of its messages
// are sent but not recorded: the one whose record is under way and the
// one on the wire. After a kill -9, only those may go twice.
type sentRecord struct {
	marks   chan<- markReq // the marker's queue
	log     *slog.Logger
	done    chan error // the marker's answer
	id      int64      // the delivery whose record is under way, if pending
	pending bool
}

// start hands delivery id to the marker, once the previous record is in.
func (r *sentRecord) start(id int64) {
	r.wait()
	r.id, r.pending = id, true
	r.marks <- markReq{id: id, done: r.done}
}

// wait waits for the record under way, if any.
func (r *sentRecord) wait() {
	if !r.pending {
		return
	}
	r.pending = false
	if err := <-r.done; err != nil {
		r.log.Error("recording delivery outcome (it will be retried after its lease)", "delivery_id", r.id, "err", err)
	}
}

func (s *Sender) work(ctx context.Context, n int) {
	log := s.log.With("worker", n)
	rec := &sentRecord{marks: s.marks, log: log, done: make(chan error, 1)}
	var conn Conn
	defer func() {
		rec.wait() // before Run closes the marker's queue
		if conn != nil {
			_ = conn.Close()
		}
	}()
	idle := time.NewTimer(0)
	defer idle.Stop()
	var buf []byte
	busy := false // counted in s.busy
	defer func() {
		if busy {
			s.busy.Add(-1)
		}
	}()
	var cur store.QueueCursor // this worker's place in the queue
	for ctx.Err() == nil {
		claim, err := s.store.ClaimDeliveries(ctx, s.cfg.Batch, s.cfg.Lease, &cur)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("claiming deliveries", "err", err)
			}
			s.sleep(ctx, idle, s.cfg.Poll)
			continue
		}
		batch := claim.Deliveries
		if len(batch) == 0 && claim.Settled > 0 {
			continue // only suppressed or skipped rows: more may be due behind them
		}
		if len(batch) == 0 {
			if busy {
				busy = false
				s.busy.Add(-1)
			}
			rec.wait()
			s.sleep(ctx, idle, s.cfg.Poll)
			continue
		}
		if !busy {
			busy = true
			s.busy.Add(1)
		}
		if claim.Taken() == s.cfg.Batch {
			s.Wake() // more may be due: let an idle sibling look too
		}
		for i, d := range batch {
			if ctx.Err() != nil {
				s.release(batch[i:])
				return
			}
			if conn == nil {
				if conn, err = s.transport.Open(ctx); err != nil {
					log.Warn("opening mail transport", "err", err)
					s.settle(ctx, d, err, rec)
					continue
				}
			}
			buf, err = s.deliver(ctx, conn, d, buf[:0])
			if err != nil {
				var se *SendError
				if errors.As(err, &se) && se.Temporary && se.Code == 0 {
					// A network error: this connection is done.
					_ = conn.Close()
					conn = nil
				}
			}
			s.settle(ctx, d, err, rec)
		}
	}
}

func (s *Sender) sleep(ctx context.Context, t *time.Timer, d time.Duration) {
	t.Reset(d)
	select {
	case <-ctx.Done():
	case <-s.wake:
	case <-t.C:
	}
}

// release hands unsent deliveries back on shutdown.
func (s *Sender) release(ds []store.Claimed) {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.store.ReleaseDeliveries(ctx, ids); err != nil {
		s.log.Warn("handing back deliveries (they return after their lease)", "err", err)
	}
}

// deliver renders and sends one delivery.
func (s *Sender) deliver(ctx context.Context, conn Conn, d store.Claimed, buf []byte) ([]byte, error) {
	pm, err := s.prepare(ctx, d.MessageID)
	if err != nil {
		return buf, fmt.Errorf("preparing message %d: %w", d.MessageID, err)
	}
	p, gid := pm.p, pm.groupID
	rc := Recipient{
		Email:             d.Email,
		Name:              d.Name,
		ReturnPath:        "bounces+" + s.keys.VERPToken(d.ID) + "@" + s.domain,
		UnsubscribeURL:    s.urls.Unsubscribe(d.UserID, gid),
		UnsubscribeAllURL: s.urls.Unsubscribe(d.UserID, 0),
		SettingsURL:       s.urls.EmailSettings(d.UserID, gid),
		Delivery:          s.keys.DeliveryHeader(sign.Sent{Kind: sign.SentPost, ID: d.ID}),
		PlainText:         d.PlainText,
		PauseURL:          s.urls.Pause(d.UserID),
	}
	rc.PrivateReply, rc.ReplyTo = s.addresses(pm.privacy, d.UserID) // private replies (private.go)
	for _, f := range p.Files() {
		rc.FileURLs = append(rc.FileURLs, s.urls.File(d.UserID, f.ID))
	}
	// Conversation links (issue 19).
	rc.MuteURL = s.urls.ThreadMail(d.UserID, pm.threadID, mailflow.ThreadMuted)
	rc.MuteAddress = pm.muteAddress
	if d.ThreadPref == mailflow.ThreadFollowed {
		rc.UnfollowURL = s.urls.ThreadMail(d.UserID, pm.threadID, mailflow.ThreadDefault)
	}
	buf, err = p.Render(buf, rc)
	if err != nil {
		return buf, fmt.Errorf("rendering message %d for delivery %d: %w", d.MessageID, d.ID, err)
	}
	if err := s.limiter.Wait(ctx); err != nil {
		return buf, &SendError{Temporary: true, Msg: "shutting down", Err: err}
	}
	return buf, conn.Send(ctx, rc.ReturnPath, d.Email, buf)
}

// settle records the outcome of one attempt: a sent one through rec,
// without waiting for it; others at once.
func (s *Sender) settle(ctx context.Context, d store.Claimed, err error, rec *sentRecord) {
	// Record even while shutting down: the message may already be out.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var se *SendError
	switch {
	case err == nil:
		s.metrics.MailSent.Inc()
		rec.start(d.ID)
	case errors.As(err, &se) && !se.Temporary:
		s.metrics.MailFailed.Inc()
		s.log.Info("delivery failed permanently", "delivery_id", d.ID, "to", d.Email, "code", se.Code, "reply", se.Msg)
		err = s.store.MarkFailed(rctx, d.ID, se.Code, se.Error())
		if s.cfg.Failures != nil && se.Code >= 500 {
			s.cfg.Failures.OnSendFailure(rctx, d.ID, d.Email, se.Code, se.Enhanced, se.Msg)
		}
	default:
		code := 0
		if se != nil {
			code = se.Code
		}
		if time.Since(d.CreatedAt) > s.cfg.RetryFor {
			s.metrics.MailFailed.Inc()
			err = s.store.MarkFailed(rctx, d.ID, code, "gave up after "+s.cfg.RetryFor.String()+": "+err.Error())
			break
		}
		retry := time.Now().Add(backoff(s.cfg.RetryBase, d.Attempts))
		s.log.Info("delivery deferred", "delivery_id", d.ID, "to", d.Email, "attempt", d.Attempts, "retry_at", retry, "err", err)
		err = s.store.MarkDeferred(rctx, d.ID, retry, code, err.Error())
	}
	if err != nil {
		s.log.Error("recording delivery outcome (it will be retried after its lease)", "delivery_id", d.ID, "err", err)
	}
}

// backoff grows exponentially from base to at most an hour, with ±25%
// jitter so that retries after a relay outage do not arrive in lockstep.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// prepared is a message rendered once, with the group it belongs to.
type prepared struct {
	p        *Prepared
	groupID  int64
	privacy  privacy // for the copies' private addresses (private.go)
	threadID int64   // for the recipient's conversation links
	// muteAddress is the thread's signed reply address, the same in
	// every copy: signed once per message, not per recipient.
	muteAddress string
}

// prepare returns the message's per-message rendering, cached.
func (s *Sender) prepare(ctx context.Context, messageID int64) (prepared, error) {
	s.mu.Lock()
	pm, ok := s.prepared[messageID]
	s.mu.Unlock()
	if ok {
		return pm, nil
	}
	m, err := s.store.MessageByID(ctx, messageID)
	if err != nil {
		return pm, err
	}
	t, err := s.store.ThreadByID(ctx, m.ThreadID)
	if err != nil {
		return pm, err
	}
	g, err := s.store.GroupByID(ctx, m.GroupID)
	if err != nil {
		return pm, err
	}
	refs, err := s.store.ThreadReferences(ctx, t.ID, m.ID, 10)
	if err != nil {
		return pm, err
	}
	files, err := s.store.MessageAttachments(ctx, []int64{m.ID})
	if err != nil {
		return pm, err
	}
	post := Post{Group: g, Thread: t, Message: m, AuthorName: m.AuthorName, AuthorEmail: m.FromEmail, References: refs}
	for _, f := range files[m.ID] {
		file := File{ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType}
		if s.cfg.Files != nil && g.AttachMaxKB > 0 && f.Size <= int64(g.AttachMaxKB)*1024 {
			if file.Data, err = s.readFile(ctx, f.BlobKey, f.Size); err != nil {
				// Linked instead: a missing file must not stop the post.
				s.log.Warn("attaching a file to group email; linking it instead", "resource_id", f.ID, "err", err)
			}
		}
		post.Files = append(post.Files, file)
	}
	if post.AuthorName == "" {
		post.AuthorName = m.FromEmail
	}
	pv, err := s.privacyOf(ctx, g, m)
	if err != nil {
		return pm, err
	}
	post.Private = pv.pair != nil
	p, err := s.renderer.Prepare(post)
	if err != nil {
		return pm, err
	}
	pm = prepared{p: p, groupID: g.ID, privacy: pv, threadID: t.ID,
		muteAddress: g.Slug + "+r-" + s.keys.ReplyToken(t.ID) + "@" + s.domain}
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.prepared[messageID]; ok {
		return q, nil
	}
	s.prepared[messageID] = pm
	s.order = append(s.order, messageID)
	if len(s.order) > 256 {
		delete(s.prepared, s.order[0])
		s.order = s.order[1:]
	}
	return pm, nil
}

// readFile reads a message's file for attaching, at most size bytes.
func (s *Sender) readFile(ctx context.Context, key string, size int64) ([]byte, error) {
	rc, _, err := s.cfg.Files.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("reading file %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, size+1))
	if err != nil {
		return nil, fmt.Errorf("reading file %s: %w", key, err)
	}
	if int64(len(b)) != size {
		return nil, fmt.Errorf("reading file %s: %d bytes, not %d", key, len(b), size)
	}
	return b, nil
}
