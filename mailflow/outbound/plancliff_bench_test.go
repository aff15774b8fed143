package outbound_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/posting"
)

// BenchmarkSendAfterSmallSend measures the plan cliff and the database's
// cost per message: a send to 1,000 members, the statistics taken while
// its deliveries are queued (as autovacuum would, once the fan-out has
// inserted them), and a send to 100,000 members right after, with no new
// ANALYZE. It runs once whatever b.N (use -benchtime=1x) and
// reports both rates (first acceptance to last message at the sink), their
// ratio, and the CPU time of PostgreSQL (all of the test cluster's
// processes) and of this process per message of the large send.
//
//	go test ./mailflow/outbound -run '^$' -bench SendAfterSmallSend -benchtime=1x
func BenchmarkSendAfterSmallSend(b *testing.B) {
	const small, large = 1000, 100000
	r := newRig(b, nil)
	r.sink.SetDiscard(true)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	pm := postmasterPID(b, r)

	send := func(slug string, n int) (rate, pgCPU, selfCPU float64) {
		g := r.group(slug, owner)
		if err := r.st.SeedMembers(ctx, g.ID, n, slug+".example"); err != nil {
			b.Fatal(err)
		}
		before := r.sink.Count()
		pg0, self0 := clusterCPU(b, pm), processCPU()
		start := time.Now()
		acc, err := r.post.Accept(ctx, posting.Submission{Author: &owner, GroupID: g.ID, Subject: "Hello " + slug,
			Body: "Hello **everyone**, with a [link](https://example.org/).", Source: mailflow.SourceEmail})
		if err != nil {
			b.Fatal(err)
		}
		if !r.sink.WaitFor(before+n, 10*time.Minute) {
			b.Fatalf("%s: %d of %d arrived", slug, r.sink.Count()-before, n)
		}
		took := time.Since(start)
		pg1, self1 := clusterCPU(b, pm), processCPU()
		if c := r.waitSettled(acc.Message.ID, time.Minute); c["sent"] != n {
			b.Fatalf("%s: deliveries %v, want %d sent", slug, c, n)
		}
		perMsg := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
		return float64(n) / took.Seconds(), perMsg(pg1 - pg0), perMsg(self1 - self0)
	}

	// The statistics are taken as the first message of the small send
	// arrives: its deliveries are expanded, and queued or being sent.
	var analysed sync.Once
	r.sink.SetDataHook(func(string, []string) *smtp.SMTPError {
		analysed.Do(func() {
			if _, err := r.st.Pool().Exec(ctx, `ANALYZE deliveries; ANALYZE users; ANALYZE memberships`); err != nil {
				b.Error(err)
			}
		})
		return nil
	})
	smallRate, _, _ := send("small", small)
	r.sink.SetDataHook(nil)
	largeRate, pgCPU, selfCPU := send("large", large)
	b.ReportMetric(smallRate, "small-msg/s")
	b.ReportMetric(largeRate, "large-msg/s")
	b.ReportMetric(largeRate/smallRate, "large/small")
	b.ReportMetric(pgCPU, "pg-cpu-µs/msg")
	b.ReportMetric(selfCPU, "self-cpu-µs/msg")
}

// postmasterPID finds the test cluster's postmaster: the parent of its
// checkpointer.
func postmasterPID(b *testing.B, r *rig) int {
	b.Helper()
	var pid int
	if err := r.st.Pool().QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'`).Scan(&pid); err != nil {
		b.Fatal(err)
	}
	f := procStat(b, pid)
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// clusterCPU is the CPU time used so far by the postmaster and its
// children, live ones and those that have exited.
func clusterCPU(b *testing.B, pm int) time.Duration {
	b.Helper()
	f := procStat(b, pm)
	ticks := 0
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		n, _ := strconv.Atoi(f[i])
		ticks += n
	}
	kids, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pm, pm))
	for _, k := range strings.Fields(string(kids)) {
		pid, _ := strconv.Atoi(k)
		if f, ok := tryProcStat(pid); ok {
			for _, i := range []int{11, 12} {
				n, _ := strconv.Atoi(f[i])
				ticks += n
			}
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// procStat returns /proc/pid/stat's fields after the command name (the
// first is the state, field 3 of proc(5)).
func procStat(b *testing.B, pid int) []string {
	b.Helper()
	f, ok := tryProcStat(pid)
	if !ok {
		b.Skipf("cannot read /proc/%d/stat: this benchmark measures CPU time on Linux only", pid)
	}
	return f
}

func tryProcStat(pid int) ([]string, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	s := string(raw)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), true
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
