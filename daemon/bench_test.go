package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchIntake mails a small burst of posts to `parleyd bench intake`:
// every post becomes a post, every member gets each copy (the bench
// fails otherwise), and the report names the commit rate, the post rate
// and their ratio.
func TestBenchIntake(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCmd(t, nil, "", "bench", "intake", "--posts", "30", "--conns", "3", "--post-members", "2")
	if code != 0 {
		t.Fatalf("bench intake: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`committed \(250\): 30 posts, the last at \S+: \d+ posts/s`),
		regexp.MustCompile(`became posts: the first at \S+, the last at \S+: \d+ posts/s, \d+% of the commit rate`),
		regexp.MustCompile(`copies: 60, the first at \S+, the last at \S+`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the report lacks %s:\n%s", want, out)
		}
	}
}

// TestBenchFanoutRounds runs two interleaved rounds of Parley and the
// bare client against the in-process sink and checks the summary.
func TestBenchFanoutRounds(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCmd(t, nil, "", "bench", "fanout", "--recipients", "200", "--rounds", "2")
	if code != 0 {
		t.Fatalf("bench fanout: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`round 2, parley: first→last \d+ msg/s, start→last \d+ msg/s, CPU \d+ µs/msg`),
		regexp.MustCompile(`round 2, bare go-mail client: first→last \d+ msg/s`),
		regexp.MustCompile(`parley +first→last \d+ \[\d+–\d+\] msg/s +start→last .* × bare`),
		regexp.MustCompile(`parley: [\d.]+ allocations and \d+ bytes per recipient`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the output lacks %s:\n%s", want, out)
		}
	}
}

// TestBenchRefusesUntimedRuns: a run that could not be timed by the
// sink is refused at once with the reason and exit status 2.
func TestBenchRefusesUntimedRuns(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp", "127.0.0.1:2525"}, "--smtp needs --sink-stats"},
		{[]string{"--listmonk", "http://127.0.0.1:9000", "--listmonk-token", "bench:x"}, "--listmonk needs --smtp"},
		{[]string{"--smtp", "127.0.0.1:2525", "--sink-stats", "http://127.0.0.1:2580", "--listmonk", "http://127.0.0.1:9000"}, "--listmonk needs --listmonk-token"},
		{[]string{"--listmonk-pids", "12,abc"}, `"abc" is not a process id`},
	} {
		_, stderr, code := runCmd(t, nil, "", append([]string{"bench", "fanout"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("bench fanout %v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

// TestBenchGrowth ages a small list for four days, two of them kept: the
// report shows each day's pruning, the deliveries bounded at the days
// kept, and the fan-out measured on the aged database beside a fresh one,
// by table work and over SMTP.
func TestBenchGrowth(t *testing.T) {
	t.Parallel()
	out, stderr, code := runCmd(t, nil, "", "bench", "growth", "--days", "4", "--members", "60", "--posts", "5", "--retention", "2", "--rounds", "1", "--conns", "2")
	if code != 0 {
		t.Fatalf("bench growth: exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
	for _, want := range []*regexp.Regexp{
		// Day 3 prunes day 1's deliveries (the owner's among them).
		regexp.MustCompile(`(?m)^  3 +[\d.]+ +30\d +`),
		regexp.MustCompile(`pruning a day's deliveries \(300 rows\): median`),
		regexp.MustCompile(`round 1, fresh database: first→last \d+ msg/s, start→last \d+ msg/s`),
		regexp.MustCompile(`round 1, after 4 days: first→last \d+ msg/s`),
		regexp.MustCompile(`aged / fresh +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+`),
	} {
		if !want.MatchString(out) {
			t.Errorf("the report lacks %s:\n%s", want, out)
		}
	}
	// Two days kept of 305 a day (the 60 members and the owner, 5 posts),
	// sized before the measured posts; a day more would be allowed.
	m := regexp.MustCompile(`(?m)^deliveries +(\d+) `).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no deliveries row in the table sizes:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n > 2*300+300 {
		t.Errorf("deliveries after 4 days kept 2: %d rows, want at most two days' 600 (and one more day being seeded)", n)
	}
}
