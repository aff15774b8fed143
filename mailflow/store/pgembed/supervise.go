package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Restart backoff: the first attempt at once, then 1 s doubling to 30 s.
const (
	restartBackoffMin = time.Second
	restartBackoffMax = 30 * time.Second
	livenessPoll      = time.Second
)

// becomeSubreaper makes this process the parent of the servers it starts:
// pg_ctl leaves the postmaster behind as an orphan, which Linux then gives
// to the nearest subreaper instead of PID 1. serve can then wait for the
// postmaster's exit (no polling) and reap it and its children, which
// matters where PID 1 reaps nothing (a container without an init): a
// zombie postmaster would keep its postmaster.pid looking alive and block
// every restart.
func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("becoming the parent of the database server: %w", err)
	}
	return nil
}

// Supervise keeps the server running until ctx ends. When the postmaster
// dies (killed, out of memory), it starts the server again: at once, then
// with backoff while starting fails (old children still holding the shared
// memory, a full disk), logging each step. Meanwhile the database is
// unreachable, so serve answers 503 on /healthz and 451 on SMTP, and its
// connection pool and job queue reconnect once it is back. Supervise does
// nothing for a cluster this process does not own; call it before Close,
// and let it return first. Open it with Options.Supervised, so that the
// postmaster's exit is seen at once and reaped.
func (c *Cluster) Supervise(ctx context.Context) {
	if !c.owner {
		return
	}
	for ctx.Err() == nil {
		pid, err := c.postmasterPID()
		if err != nil {
			c.log.Error("embedded PostgreSQL: cannot read postmaster.pid", "err", err)
		} else if !c.waitExit(ctx, pid) {
			return
		}
		down := time.Now()
		c.log.Error("embedded PostgreSQL stopped unexpectedly; restarting it", "pid", pid, "log", c.logFile)
		if !c.restart(ctx, down) {
			return
		}
	}
}

// restart starts the server until it runs or ctx ends.
func (c *Cluster) restart(ctx context.Context, down time.Time) bool {
	wait := time.Duration(0)
	for attempt := 1; ; attempt++ {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		c.reapOrphans()
		c.log.Info("embedded PostgreSQL: starting", "attempt", attempt)
		err := c.start(ctx)
		if err == nil {
			c.reapOrphans() // the old children are gone: they held the start back
			c.log.Info("embedded PostgreSQL is back", "attempt", attempt, "down_for", time.Since(down).Round(time.Millisecond))
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		wait = min(max(2*wait, restartBackoffMin), restartBackoffMax)
		c.log.Warn("embedded PostgreSQL did not start; retrying", "attempt", attempt, "retry_in", wait, "err", err)
	}
}

// waitExit returns true when process pid has exited, false when ctx ended
// first. A postmaster this process started is its child: its exit is
// waited for (and reaped). One adopted from an earlier parleyd is not, and
// is polled.
func (c *Cluster) waitExit(ctx context.Context, pid int) bool {
	exited := make(chan struct{})
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err == nil {
				close(exited)
			}
			return // ECHILD: not our child; the poll below sees its end
		}
	}()
	t := time.NewTicker(livenessPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-exited:
			return true
		case <-t.C:
			if !processAlive(pid) {
				return true
			}
		}
	}
}

// postmasterPID reads the postmaster's pid from the first line of
// postmaster.pid.
func (c *Cluster) postmasterPID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.pgDir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("postmaster.pid: bad pid %q", strings.SplitN(string(b), "\n", 2)[0])
	}
	return pid, nil
}

// processAlive reports whether pid runs and is not a zombie.
func processAlive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z'
}

// procStat reads a process's state and parent from /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	return f[0][0], ppid, true
}

// reapOrphans collects the exit of the dead postmaster's children, which
// were handed to this process (see becomeSubreaper), so they do not stay
// zombies. Only postgres processes are touched: the exits of this
// process's own commands belong to os/exec.
func (c *Cluster) reapOrphans() {
	self := os.Getpid()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		state, ppid, ok := procStat(pid)
		if !ok || state != 'Z' || ppid != self {
			continue
		}
		if comm, _ := os.ReadFile(p + "/comm"); strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		var ws unix.WaitStatus
		_, _ = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	}
}
