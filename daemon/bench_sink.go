package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// sinkStats is what a sink has counted since its last reset, by its own
// clock: the benchmarks time every program by what arrives, never by
// asking the program (or its database) how far it has come.
type sinkStats struct {
	Msgs        int
	First, Last time.Time
}

// benchSink is the SMTP sink a benchmark round is timed by.
type benchSink interface {
	Reset(ctx context.Context) error
	Stats(ctx context.Context) (sinkStats, error)
}

// localSink is the in-process sink (mailtest), counted in memory.
type localSink struct{ s *mailtest.Sink }

func (l localSink) Reset(context.Context) error { l.s.Reset(); return nil }

func (l localSink) Stats(context.Context) (sinkStats, error) {
	first, last := l.s.Span()
	return sinkStats{Msgs: l.s.Count(), First: first, Last: last}, nil
}

// remoteSink is ../shared/bench/smtpsink's HTTP side: GET /stats (JSON,
// times in Unix nanoseconds) and POST /reset.
type remoteSink struct {
	base   string
	client *http.Client
}

func newRemoteSink(base string) remoteSink {
	return remoteSink{base: strings.TrimSuffix(base, "/"), client: &http.Client{Timeout: 10 * time.Second}}
}

func (r remoteSink) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+"/reset", nil)
	if err != nil {
		return fmt.Errorf("sink reset: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("sink reset: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sink reset: %s", resp.Status)
	}
	return nil
}

func (r remoteSink) Stats(ctx context.Context) (sinkStats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/stats", nil)
	if err != nil {
		return sinkStats{}, fmt.Errorf("sink stats: %w", err)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return sinkStats{}, fmt.Errorf("sink stats: %w", err)
	}
	defer resp.Body.Close()
	var s struct {
		Msgs    int   `json:"msgs"`
		FirstNS int64 `json:"first_ns"`
		LastNS  int64 `json:"last_ns"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return sinkStats{}, fmt.Errorf("sink stats: %w", err)
	}
	out := sinkStats{Msgs: s.Msgs}
	if s.FirstNS > 0 {
		out.First, out.Last = time.Unix(0, s.FirstNS), time.Unix(0, s.LastNS)
	}
	return out, nil
}

// waitSink waits until the sink has counted n messages. Asking the sink
// costs a memory read or a loopback HTTP request, so it is asked every
// 10 ms; a run that stops making progress for a minute is given up.
func waitSink(ctx context.Context, sink benchSink, n int) (sinkStats, error) {
	seen, progressed := -1, time.Now()
	for {
		s, err := sink.Stats(ctx)
		if err != nil {
			return s, err
		}
		if s.Msgs >= n {
			return s, nil
		}
		if s.Msgs != seen {
			seen, progressed = s.Msgs, time.Now()
		}
		if time.Since(progressed) > time.Minute {
			return s, fmt.Errorf("the sink has counted %d of %d messages and no more for a minute", s.Msgs, n)
		}
		select {
		case <-ctx.Done():
			return s, fmt.Errorf("interrupted at %d of %d messages", s.Msgs, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// cpuMeter adds up the CPU time of this process and of other processes
// with their children (a PostgreSQL postmaster and its backends, the
// sink, listmonk), read from /proc.
type cpuMeter struct {
	self bool
	pids []int
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

func (m cpuMeter) read() time.Duration {
	var total time.Duration
	for _, d := range m.each() {
		total += d
	}
	return total
}

// each is read split by process: this process first (when self), then
// each of pids in order, so that a round can say where its CPU went.
func (m cpuMeter) each() []time.Duration {
	var out []time.Duration
	if m.self {
		var ru syscall.Rusage
		var d time.Duration
		if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
			d = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
		out = append(out, d)
	}
	for _, pid := range m.pids {
		out = append(out, treeCPU(pid))
	}
	return out
}

// treeCPU is the CPU time of pid, of the children it has reaped, and of
// its living children (PostgreSQL's backends are children of the
// postmaster).
func treeCPU(pid int) time.Duration {
	ticks := int64(0)
	if f := procStat(pid); f != nil {
		ticks += f[11] + f[12] + f[13] + f[14] // utime stime cutime cstime
	}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		child, err := strconv.Atoi(filepath.Base(d))
		if err != nil || child == pid {
			continue
		}
		if f := procStat(child); f != nil && f[1] == int64(pid) {
			ticks += f[11] + f[12]
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// procStat returns the numeric fields of /proc/PID/stat after the
// command name (index 0 is the state, 1 the parent, 11 utime), or nil.
func procStat(pid int) []int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 15 {
		return nil
	}
	out := make([]int64, 15)
	for j := 1; j < 15; j++ {
		out[j], _ = strconv.ParseInt(fields[j], 10, 64)
	}
	return out
}

// postmasterPID reads the embedded cluster's postmaster.pid (its first
// line); 0 if there is none.
func postmasterPID(dataDir string) int {
	b, err := os.ReadFile(filepath.Join(dataDir, "pg", "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}

// parsePIDs reads a comma-separated list of process ids.
func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("%q is not a process id", f)
		}
		out = append(out, pid)
	}
	return out, nil
}
