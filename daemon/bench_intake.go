package main

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/parleymail/parley/mailflow/store"
)

// benchIntake is `parleyd bench intake`: a burst of posts mailed to a
// group over several SMTP connections at once, against a daemon's
// intake, job queue and senders on a throwaway database. It reports how
// fast the posts are committed (the SMTP 250), how fast they become
// posts, and when their copies reach the sink.
func benchIntake(e *env, o benchOpts) error {
	b, done, err := openBench(e, o)
	if err != nil {
		return err
	}
	defer done()
	ctx, st, sink := b.ctx, b.st, b.sink
	// The burst comes from one address: the per-address limits must not
	// be what is measured.
	cfg, err := benchConfig(b.dir, map[string]string{"EMAIL_BACKEND": "smtp", "EMAIL_HOST": b.host, "EMAIL_PORT": strconv.Itoa(b.port),
		"SMTP_RATE_PER_MINUTE": "1000000", "SMTP_MAX_CONNECTIONS_PER_IP": strconv.Itoa(max(o.conns, 20)),
		"SMTP_MAX_CONNECTIONS": strconv.Itoa(max(o.conns, 100))})
	if err != nil {
		return err
	}
	owner, g, err := seedBenchGroup(ctx, st, o.postCopies)
	if err != nil {
		return err
	}
	c, err := buildCore(cfg, st, transportFor(cfg, b.log), b.log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = c.intake.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.intake.Shutdown(sctx)
	}()
	stopWork, err := startWork(ctx, c)
	if err != nil {
		return err
	}
	defer stopWork()

	stopProfile, err := startProfile(o.cpuprofile)
	if err != nil {
		return err
	}
	defer stopProfile()
	cpu := cpuMeter{self: true, pids: []int{postmasterPID(b.dir)}}
	if o.pgTop > 0 {
		if err := st.ResetStatements(ctx); err != nil {
			return err
		}
	}
	cpu0 := cpu.each()
	fmt.Fprintf(e.stdout, "mailing %d posts over %d connections to a group of %d members\n", o.posts, o.conns, o.postCopies)
	bu, err := sendBurst(ln.Addr().String(), owner.Email, g.Slug+"@bench.test", o.posts, o.conns)
	if err != nil {
		return err
	}
	during, err := sink.Stats(ctx)
	if err != nil {
		return err
	}
	rep, err := waitPosts(ctx, st, bu.start, g.ID, o.posts)
	if err != nil {
		return err
	}
	copies := o.posts * o.postCopies
	s, err := waitSink(ctx, sink, copies)
	if err != nil {
		return err
	}
	perPost, split := cpuSplit(cpu0, cpu.each(), o.posts, []string{"parleyd with the bench's client and sink", "PostgreSQL"})
	stopProfile()
	commitRate := float64(o.posts) / bu.last.Sub(bu.start).Seconds()
	postRate := float64(o.posts) / rep.LastPost.Sub(bu.start).Seconds()
	at := func(t time.Time) string { return t.Sub(bu.start).Round(time.Millisecond).String() }
	fmt.Fprintf(e.stdout, "committed (250): %d posts, the last at %s: %.0f posts/s\n", o.posts, at(bu.last), commitRate)
	fmt.Fprintf(e.stdout, "became posts: the first at %s, the last at %s: %.0f posts/s, %.0f%% of the commit rate\n",
		at(rep.FirstPost), at(rep.LastPost), postRate, 100*postRate/commitRate)
	fmt.Fprintf(e.stdout, "copies: %d, the first at %s, the last at %s; %d of them out before the burst's last 250\n",
		copies, at(s.First), at(s.Last), during.Msgs)
	fmt.Fprintf(e.stdout, "CPU: %.0f µs per post with its copies (%s); peak RSS %s\n",
		float64(perPost)/float64(time.Microsecond), split, peakRSS())
	if o.pgTop > 0 {
		return printStatements(ctx, e.stdout, st, o.pgTop, o.posts, "post")
	}
	return nil
}

// burst is when a burst's first message was sent and its last committed.
type burst struct{ start, last time.Time }

// sendBurst mails n posts from from to to over conns connections at once,
// each message distinct, and returns when the last was answered 250.
func sendBurst(addr, from, to string, n, conns int) (burst, error) {
	host, port, err := splitHostPort(addr)
	if err != nil {
		return burst{}, err
	}
	var next, lastNS atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	b := burst{start: time.Now()}
	for range conns {
		wg.Go(func() {
			c, err := dialGoMail(host, port, "client.bench.test")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				m := gomail.NewMsg()
				if err := m.From(from); err != nil {
					errs <- err
					return
				}
				if err := m.To(to); err != nil {
					errs <- err
					return
				}
				m.Subject(fmt.Sprintf("Burst post %d", i))
				m.SetBodyString(gomail.TypeTextPlain, fmt.Sprintf("This is post %d of a burst of %d.\r\n", i, n))
				if err := c.Send(m); err != nil {
					errs <- fmt.Errorf("post %d: %w", i, err)
					return
				}
				now := time.Now().UnixNano()
				for old := lastNS.Load(); now > old && !lastNS.CompareAndSwap(old, now); old = lastNS.Load() {
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return b, err
	}
	b.last = time.Unix(0, lastNS.Load())
	return b, nil
}

// waitPosts waits until n posts are made in the group, reading the
// database ten times a second (a count over the burst's rows only).
func waitPosts(ctx context.Context, st *store.Store, since time.Time, groupID int64, n int) (store.IntakeReport, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		rep, err := st.IntakeProgress(ctx, since, groupID)
		if err != nil {
			return rep, err
		}
		switch {
		case rep.Posts >= n:
			return rep, nil
		case rep.Processed+rep.Failed >= n:
			return rep, fmt.Errorf("every message is processed but only %d of %d became posts (%d failed)", rep.Posts, n, rep.Failed)
		case time.Now().After(deadline):
			return rep, fmt.Errorf("gave up after 10 minutes: %d of %d posts", rep.Posts, n)
		}
		select {
		case <-ctx.Done():
			return rep, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
