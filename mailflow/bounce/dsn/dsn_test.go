package dsn

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ---- the shared corpus -----------------------------------------------------------

// corpusDir finds the shared corpus, ../shared/corpus from the module
// root, or skips: the files are others' work and live outside the
// repository (see its README.md).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory; cannot find the shared corpus")
		}
		dir = parent
	}
	c := filepath.Join(dir, "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(c, "index.tsv")); err != nil {
		t.Skipf("shared corpus not found at %s (%v); these tests read it in place", c, err)
	}
	return c
}

// readIndex reads index.tsv: a header row, then one row per file.
func readIndex(t *testing.T, dir string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cols []string
	var rows []map[string]string
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = cells
			continue
		}
		row := map[string]string{}
		for i, c := range cols {
			if i < len(cells) {
				row[c] = cells[i]
			}
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sisimaiReasons maps go-sisimai's reasons to Parley's. Sisimai's are
// finer, and it often calls a transient routing failure that stopped or
// held delivery "expired" where Parley, unless the report says time ran
// out, says "network".
var sisimaiReasons = map[string][]string{
	"userunknown": {ReasonUserUnknown}, "hasmoved": {ReasonUserUnknown}, "suspend": {ReasonUserUnknown},
	"mailboxfull": {ReasonMailboxFull}, "hostunknown": {ReasonDomain}, "notaccept": {ReasonDomain},
	"expired": {ReasonExpired, ReasonNetwork}, "networkerror": {ReasonNetwork}, "toomanyconn": {ReasonNetwork},
	"rejected": {ReasonPolicy}, "blocked": {ReasonPolicy}, "filtered": {ReasonPolicy, ReasonSpam},
	"norelaying": {ReasonPolicy}, "securityerror": {ReasonPolicy}, "policyviolation": {ReasonPolicy},
	"spamdetected": {ReasonSpam}, "virusdetected": {ReasonSpam}, "contenterror": {ReasonSpam, ReasonPolicy},
	"authfailure": {ReasonDMARC}, "mailererror": {ReasonOther}, "systemerror": {ReasonOther},
	"exceedlimit": {ReasonOther}, "syntaxerror": {ReasonOther}, "undefined": {ReasonOther},
}

// delayReports are corpus reports that are warnings although no column
// says so: read from the files themselves.
var delayReports = map[string]string{
	"dsn/sisimai-lhost-gmail-06.eml": `Gmail: "Delivery to the following recipient has been delayed"`,
	"dsn/sisimai-rfc3464-07.eml":     "Action: Delayed, and nothing else",
}

// knownGaps are the corpus checks Parley fails on purpose, each with the
// reason; the test logs them instead of failing. A gap that no longer
// shows is logged too, so that it can be removed.
var knownGaps = map[string][]struct{ problem, why string }{
	"dsn/sisimai-rfc3464-01.eml": {{
		"userunknown@bouncehammer.jp: reason user-unknown, sisimai mailboxfull",
		"Status 5.1.1 and Diagnostic-Code \"User Unknown\" against a human-readable part saying \"Not enough disk space\"; Parley believes the fields",
	}},
	"dsn/sisimai-dos-lhost-postfix-01.eml": {{
		"r@p351355.pool.example.ne.jp: reason user-unknown, sisimai mailererror",
		"Status 5.1.1 and procmail's \"No such user\": sisimai names the failing program, Parley what it said",
	}},
	"dsn/sisimai-rfc3464-35.eml": {
		{
			"kijitora@nyaan.example.com: reason other, sisimai rejected",
			"Status 5.0.0, \"is not a registered gateway user\": no words Parley would read as a refusal of the sender",
		},
		{
			"mikeneko@neko.example.or.jp: reason user-unknown, sisimai filtered",
			"Status 5.0.0, \"550 user unknown\": Parley reads the words",
		},
	},
}

// TestCorpus classifies every delivery report, complaint, automatic reply
// and ordinary message of the shared corpus, and checks what the sources'
// own tests state about them.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	total, passed := 0, 0
	for _, row := range readIndex(t, dir) {
		file := row["file"]
		want, ok := corpusKind(row)
		if !ok {
			continue
		}
		total++
		ok = t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(file)))
			if err != nil {
				t.Fatal(err)
			}
			r := Classify(raw)
			problems := checkRow(row, want, r)
			gaps := knownGaps[file]
			for _, p := range problems {
				if i := slices.IndexFunc(gaps, func(g struct{ problem, why string }) bool { return g.problem == p }); i >= 0 {
					t.Logf("known gap: %s (%s)", p, gaps[i].why)
					continue
				}
				t.Error(p)
			}
			for _, g := range gaps {
				if !slices.Contains(problems, g.problem) {
					t.Logf("known gap no longer shows, remove it: %s", g.problem)
				}
			}
			if t.Failed() {
				t.Logf("report: %+v", r)
			}
		})
		if ok {
			passed++
		}
	}
	t.Logf("corpus: %d of %d rows pass", passed, total)
}

// corpusKind is the Kind a corpus row must get, and whether the row is
// one this package reads.
func corpusKind(row map[string]string) (Kind, bool) {
	file := row["file"]
	switch row["kind"] {
	case "arf":
		return KindComplaint, true
	case "autoreply":
		return KindAutoReply, true
	case "notbounce":
		return KindNotBounce, true
	case "dsn":
		actions := splitCol(row["action"])
		allDelayed := len(actions) > 0
		for _, a := range actions {
			allDelayed = allDelayed && a == "delayed"
		}
		sev := row["severity"]
		if allDelayed || sev == "temporary" || strings.HasPrefix(sev, "transient (warning") || delayReports[file] != "" {
			return KindDelayed, true
		}
		return KindBounce, true
	}
	if strings.HasPrefix(file, "reply/") && strings.HasSuffix(file, ".eml") {
		return KindNotBounce, true
	}
	return "", false
}

func splitCol(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	parts := strings.Split(v, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// col returns the i-th comma-separated value of a column, or "".
func col(v string, i int) string {
	parts := splitCol(v)
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// checkRow compares a report with what the corpus row states, and
// returns what differs, one line each.
func checkRow(row map[string]string, want Kind, r Report) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if r.Kind != want {
		bad("kind %s, want %s", r.Kind, want)
	}
	if want == KindNotBounce {
		if len(r.Recipients) > 0 {
			bad("ordinary mail with recipients %v", addresses(r))
		}
		return problems
	}
	wantAddrs := splitCol(strings.ToLower(row["recipients"]))
	if strings.HasPrefix(row["severity"], "none-detectable") {
		if len(r.Recipients) > 0 {
			bad("recipients %v, the source detects none", addresses(r))
		}
		return problems
	}
	if wantAddrs != nil {
		got := addresses(r)
		if !sameSet(got, wantAddrs) {
			bad("recipients %v, want %v", got, wantAddrs)
		}
	}
	for i, addr := range wantAddrs {
		j := slices.IndexFunc(r.Recipients, func(rc Recipient) bool { return rc.Address == addr })
		if j < 0 {
			continue
		}
		rc := r.Recipients[j]
		if want == KindComplaint || want == KindAutoReply {
			if rc.Scores {
				bad("%s: a %s scores", addr, want)
			}
			continue
		}
		if st := col(row["status"], i); st != "" {
			if sisimaiPrivate(st) {
				// Sisimai's own codes (X.0.9NN) stand for a class.
				if rc.Status == "" || rc.Status[0] != st[0] {
					bad("%s: status %q, want class %c (sisimai's %s)", addr, rc.Status, st[0], st)
				}
			} else if rc.Status != st {
				bad("%s: status %q, want %q", addr, rc.Status, st)
			}
		}
		switch sev := col(row["severity"], i); {
		case strings.HasPrefix(sev, "permanent"):
			if rc.Action != "failed" {
				bad("%s: action %q, a permanent failure", addr, rc.Action)
			}
			if row["status"] != "" && rc.Class != ClassHard {
				bad("%s: class %q, want hard", addr, rc.Class)
			}
		case strings.HasPrefix(sev, "transient"):
			if rc.Class != ClassSoft {
				bad("%s: class %q, want soft", addr, rc.Class)
			}
		case sev == "temporary":
			if rc.Action != "delayed" || rc.Class != ClassSoft {
				bad("%s: action %q class %q, want a soft delay", addr, rc.Action, rc.Class)
			}
		}
		if a := col(row["action"], i); a != "" && rc.Action != a {
			bad("%s: action %q, want %q", addr, rc.Action, a)
		}
		if col(row["hardbounce"], i) == "true" && !rc.Scores {
			bad("%s: does not score, sisimai says hard bounce", addr)
		}
		if rc.Action == "delayed" && rc.Scores {
			bad("%s: a delay scores", addr)
		}
		if reason := col(row["reason"], i); reason != "" {
			if ours, known := sisimaiReasons[reason]; known && !slices.Contains(ours, rc.Reason) {
				bad("%s: reason %s, sisimai %s", addr, rc.Reason, reason)
			}
		}
	}
	return problems
}

// sisimaiPrivate reports sisimai's own status codes, X.0.9NN.
func sisimaiPrivate(st string) bool {
	parts := strings.Split(st, ".")
	return len(parts) == 3 && len(parts[2]) == 3 && parts[2][0] == '9'
}

func addresses(r Report) []string {
	var out []string
	for _, rc := range r.Recipients {
		out = append(out, rc.Address)
	}
	return out
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
