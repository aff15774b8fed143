package outbound

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// TestSMTPKeptWatch: the watch kept between messages still interrupts a
// later message of the same context at once, and a context cancelled
// while the connection is idle does not disturb the next message, sent
// under another context.
func TestSMTPKeptWatch(t *testing.T) {
	s := mailtest.NewSink(t)
	var hold atomic.Bool
	release := make(chan struct{})
	s.SetDataHook(func(string, []string) *gosmtp.SMTPError {
		if hold.Load() {
			<-release
		}
		return nil
	})
	defer close(release)
	c := openConn(t, sinkTransport(t, s, 10*time.Second))

	first, cancelFirst := context.WithCancel(context.Background())
	for i := range 2 {
		if err := c.Send(first, "list@lists.example.org", "a@example.org", testMessage(i)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	cancelFirst() // while idle
	time.Sleep(20 * time.Millisecond)
	second, cancelSecond := context.WithCancel(context.Background())
	defer cancelSecond()
	if err := c.Send(second, "list@lists.example.org", "b@example.org", testMessage(3)); err != nil {
		t.Fatalf("a message under a new context after the old one was cancelled: %v", err)
	}

	hold.Store(true)
	time.AfterFunc(50*time.Millisecond, cancelSecond)
	// The sink holds the message until the test ends: only the watch
	// can end this Send.
	err := c.Send(second, "list@lists.example.org", "c@example.org", testMessage(4))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}
