package dsn

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/mailtest"
)

// ---- the shared corpus -----------------------------------------------------------

func corpusDir(t *testing.T) string { return mailtest.CorpusDir(t) }

func readIndex(t *testing.T, dir string) []map[string]string { return mailtest.CorpusIndex(t, dir) }

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

// ---- Parley's own samples ------------------------------------------------------------

// TestSamples classifies the samples in testdata, written by hand from
// the RFCs and the mailers' documented formats.
func TestSamples(t *testing.T) {
	type rcpt struct {
		addr, action, status string
		class                Class
		reason               string
		scores               bool
		diag                 string // a part of the Diagnostic
	}
	tests := []struct {
		file       string
		kind       Kind
		reporter   string
		originalID string
		feedback   string
		rcpts      []rcpt
	}{
		{"rfc3464-two-recipients.eml", KindBounce, "generic", "post-1@lists.example.org", "", []rcpt{
			{"alice@example.org", "failed", "5.1.1", ClassHard, ReasonUserUnknown, true, "User unknown"},
			// Refused for its content: an alarm for the admins, not a
			// fact about bob's mailbox.
			{"bob@example.com", "failed", "5.7.1", ClassHard, ReasonSpam, false, "rejected as spam by content filter"},
		}},
		{"delayed.eml", KindDelayed, "postfix", "post-2@lists.example.org", "", []rcpt{
			{"carol@example.com", "delayed", "4.4.1", ClassSoft, ReasonNetwork, false, "Connection timed out"},
		}},
		{"arf.eml", KindComplaint, "generic", "post-3@lists.example.org", "abuse", []rcpt{
			{"dave@isp.example", "", "", "", "", false, ""},
		}},
		{"postfix.eml", KindBounce, "postfix", "post-4@lists.example.org", "", []rcpt{
			{"erin@example.net", "failed", "5.1.1", ClassHard, ReasonUserUnknown, true, "User unknown in local recipient table"},
			{"frank@example.net", "failed", "5.2.2", ClassHard, ReasonMailboxFull, true, "Mailbox full"},
		}},
		{"qmail.eml", KindBounce, "qmail", "post-5@lists.example.org", "", []rcpt{
			{"grace@example.com", "failed", "5.1.1", ClassHard, ReasonUserUnknown, true, "550 5.1.1"},
			{"heidi@example.com", "failed", "5.4.6", ClassHard, ReasonNetwork, true, "looping"},
		}},
		{"exim.eml", KindBounce, "exim", "post-6@lists.example.org", "", []rcpt{
			{"niaj@example.com", "failed", "5.2.2", ClassHard, ReasonMailboxFull, true, "mailbox is full"},
			// A pipe delivery, named by the address it was generated by;
			// Exim gave up retrying a transient failure.
			{"olivia@example.com", "failed", "4.4.7", ClassSoft, ReasonExpired, true, "retry timeout exceeded"},
		}},
		{"exchange.eml", KindBounce, "exchange", "post-7@lists.example.org", "", []rcpt{
			{"sybil@corp.example.com", "failed", "5.1.1", ClassHard, ReasonUserUnknown, true, "RESOLVER.ADR.RecipNotFound"},
		}},
		{"ses-complaint.eml", KindComplaint, "amazonses", "post-8@lists.example.org", "abuse", []rcpt{
			{"trent@example.net", "", "", "", "", false, ""},
		}},
		{"ses-bounce.eml", KindBounce, "amazonses", "post-9@lists.example.org", "", []rcpt{
			{"victor@example.net", "failed", "4.2.2", ClassSoft, ReasonMailboxFull, true, "452 4.2.2 Mailbox full"},
		}},
		{"vacation.eml", KindAutoReply, "", "post-6@lists.example.org", "", []rcpt{
			{"peggy@example.com", "", "", "", "", false, ""},
		}},
		// A person's mail full of a report's words is still the person's.
		{"not-bounce-delivery-failed.eml", KindNotBounce, "", "", "", nil},
		// So is a report a person forwards, even unquoted.
		{"forwarded-bounce.eml", KindNotBounce, "", "", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			r := Classify(raw)
			if r.Kind != tt.kind || r.Reporter != tt.reporter || r.OriginalMessageID != tt.originalID || r.FeedbackType != tt.feedback {
				t.Errorf("got kind %q reporter %q original %q feedback %q, want %q %q %q %q",
					r.Kind, r.Reporter, r.OriginalMessageID, r.FeedbackType, tt.kind, tt.reporter, tt.originalID, tt.feedback)
			}
			if len(r.Recipients) != len(tt.rcpts) {
				t.Fatalf("recipients %+v, want %d", r.Recipients, len(tt.rcpts))
			}
			for i, w := range tt.rcpts {
				g := r.Recipients[i]
				if g.Address != w.addr || g.Action != w.action || g.Status != w.status || g.Class != w.class ||
					g.Reason != w.reason || g.Scores != w.scores || !strings.Contains(g.Diagnostic, w.diag) {
					t.Errorf("recipient %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

func TestClassifyOddInput(t *testing.T) {
	for _, tt := range []struct {
		name string
		raw  string
		kind Kind
	}{
		{"empty", "", KindUnparsable},
		{"blank", " \r\n\t\n", KindUnparsable},
		{"binary without header", "\x00\x01\x02\x03", KindUnparsable},
		{"text without header", "hello, world", KindNotBounce},
		// A success notice (RFC 3464 Action: delivered) is automatic mail
		// that reports no failure.
		{"success", "From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; a@example.org\nAction: delivered\nStatus: 2.0.0\n--b--\n", KindAutoReply},
		// A report whose recipient groups lost their blank lines.
		{"run-together groups", "From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@example.org\nAction: failed\nStatus: 5.1.1\n--b--\n", KindBounce},
		// A failure with a success code: the code is ignored.
		{"failed with 2.0.0", "From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 2.0.0\nDiagnostic-Code: smtp; 550 user unknown\n--b--\n", KindBounce},
		// A read receipt (RFC 8098).
		{"mdn", "From: a@example.org\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\n\n--b\nContent-Type: message/disposition-notification\n\nFinal-Recipient: rfc822; a@example.org\nDisposition: manual-action/MDN-sent-manually; displayed\n--b--\n", KindAutoReply},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Classify([]byte(tt.raw))
			if r.Kind != tt.kind {
				t.Errorf("kind %q, want %q (%+v)", r.Kind, tt.kind, r)
			}
			if tt.name == "run-together groups" && !sameSet(addresses(r), []string{"a@example.org", "b@example.org"}) {
				t.Errorf("recipients %v", addresses(r))
			}
			if tt.name == "failed with 2.0.0" && (len(r.Recipients) != 1 || r.Recipients[0].Status != "5.1.1" || !r.Recipients[0].Scores) {
				t.Errorf("recipients %+v, want a scoring 5.1.1", r.Recipients)
			}
		})
	}
}

func TestEnhancedCode(t *testing.T) {
	for in, want := range map[string]string{
		"550 5.1.1 <a@example.org>... User unknown": "5.1.1",
		"host 192.0.2.153 said: 550 Unknown user":   "",
		"(#5.5.0)":               "5.5.0",
		"550-5.7.26 DMARC":       "5.7.26",
		"Exim 4.72 and 8.14.2/8": "",
		"version 5.5.2657.72":    "",
		"Status: 4.4.7":          "4.4.7",
		"RESOLVER 5.1.10;":       "5.1.10",
	} {
		if got := enhancedCode(in); got != want {
			t.Errorf("enhancedCode(%q) = %q, want %q", in, got, want)
		}
	}
	if got := failureCode("<<< 250 2.1.0 Sender ok\n<<< 550 5.1.1 User unknown"); got != "5.1.1" {
		t.Errorf("failureCode skipped to %q, want 5.1.1", got)
	}
}

// TestClassifyLinear checks that time grows with the input, not faster:
// a long report with many recipients and a long run of one character.
// TestClassifyHuge checks a 3 MB report is read (a quadratic reader would
// not finish within the test timeout) and capped at maxRecipients.
// BenchmarkClassifyHuge measures its speed.
func TestClassifyHuge(t *testing.T) {
	raw := hugeReport()
	r := Classify(raw)
	if r.Kind != KindBounce || len(r.Recipients) != maxRecipients {
		t.Errorf("kind %q with %d recipients, want a bounce with %d", r.Kind, len(r.Recipients), maxRecipients)
	}
}

func BenchmarkClassifyHuge(b *testing.B) {
	raw := hugeReport()
	b.SetBytes(int64(len(raw)))
	for i := 0; i < b.N; i++ {
		Classify(raw)
	}
}

func hugeReport() []byte {
	var b strings.Builder
	b.WriteString("From: MAILER-DAEMON@mx.example.net\nReturn-Path: <>\nSubject: failure notice\n\n")
	b.WriteString("Hi. This is the qmail-send program at mx.example.net.\n\n")
	for i := 0; b.Len() < 2<<20; i++ {
		fmt.Fprintf(&b, "<user%d@example.org>:\nRemote host said: 550 5.1.1 <user%d@example.org> user unknown\n\n", i, i)
	}
	b.WriteString(strings.Repeat("@", 1<<20))
	return []byte(b.String())
}
