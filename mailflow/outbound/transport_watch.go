package outbound

import (
	"context"
	"net"
	"time"
)

// watching is the watch an smtpConn keeps from one transaction to the
// next while the context's cancellation and the socket stay the same: a
// sending worker passes the same context for every message, and
// registering a watch per message was a fair part of the client's cost.
type watching struct {
	done <-chan struct{} // the Done channel watched
	nc   net.Conn        // the socket it interrupts
	stop func() bool     // nil: no watch
}

// watch makes a cancellation of ctx interrupt a blocked read or write at
// once, by moving the deadline into the past. The returned func stops it:
// once it has returned, the watch never moves the deadline again, even
// when ctx was cancelled at that moment and its callback is already on
// its way. Without that, a pooled connection could have a later
// transaction, under another context, cut short by the late callback of
// an earlier one's cancellation.
func (c *smtpConn) watch(ctx context.Context) func() bool {
	if ctx.Done() == nil {
		return func() bool { return false } // never cancelled: nothing to watch
	}
	nc := c.nc
	live := true // guarded by dmu
	stop := context.AfterFunc(ctx, func() {
		c.dmu.Lock()
		defer c.dmu.Unlock()
		if live {
			_ = nc.SetDeadline(time.Unix(1, 0)) // the conn may be closed already; that is fine
		}
	})
	return func() bool {
		stopped := stop()
		c.dmu.Lock()
		live = false
		c.dmu.Unlock()
		return stopped
	}
}

// keepWatch watches ctx for the transaction about to run, reusing the
// watch of the last one when it watches the same cancellation on the same
// socket. A watch left between transactions is harmless: Send refuses a
// cancelled context before it touches the socket, and arm sets a fresh
// deadline under dmu before every command.
func (c *smtpConn) keepWatch(ctx context.Context) {
	done := ctx.Done()
	if c.w.stop != nil && c.w.done == done && c.w.nc == c.nc {
		return
	}
	c.unwatch()
	if done == nil {
		return // never cancelled: nothing to watch
	}
	c.w = watching{done: done, nc: c.nc, stop: c.watch(ctx)}
}

// unwatch stops the kept watch, if any.
func (c *smtpConn) unwatch() {
	if c.w.stop != nil {
		c.w.stop()
	}
	c.w = watching{}
}
