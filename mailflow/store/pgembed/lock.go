package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

// The lock is an flock on DATA_DIR/parleyd.lock. The kernel drops it when
// the holder dies, so a killed parleyd never leaves a stale lock behind;
// the file's text (role and pid) only serves messages.

func (c *Cluster) tryLock() (bool, error) {
	err := syscall.Flock(int(c.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, syscall.EWOULDBLOCK):
		return false, nil
	default:
		return false, fmt.Errorf("locking DATA_DIR: %w", err)
	}
}

func (c *Cluster) waitLock(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := c.tryLock()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("DATA_DIR %s is still locked by %s after %s", c.dataDir, c.holder(), d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *Cluster) holder() string {
	b, err := os.ReadFile(c.lock.Name())
	if err != nil || len(b) == 0 {
		return "unknown process"
	}
	return strings.TrimSpace(string(b))
}

func (c *Cluster) writeHolder(role Role) {
	// Best effort: the text is for messages only.
	_ = c.lock.Truncate(0)
	_, _ = c.lock.WriteAt([]byte(fmt.Sprintf("%s pid %d\n", role, os.Getpid())), 0)
}

func (c *Cluster) unlock() {
	if c.lock == nil {
		return
	}
	_ = c.lock.Truncate(0)
	_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
	_ = c.lock.Close()
	c.lock = nil
}
