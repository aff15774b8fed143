package webhook

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// corpusRow is one row of the shared corpus's index.tsv, by column name.
type corpusRow map[string]string

func readCorpusIndex(t *testing.T, dir string) []corpusRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var head []string
	var rows []corpusRow
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = cells
			continue
		}
		r := corpusRow{}
		for i, c := range cells {
			if i < len(head) {
				r[head[i]] = c
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// kindsFor turns the severity column into the kinds that satisfy it.
func kindsFor(severity string) []Kind {
	s := strings.ToLower(severity)
	switch {
	case strings.HasPrefix(s, "permanent"):
		return []Kind{KindHard}
	case strings.HasPrefix(s, "transient"):
		return []Kind{KindSoft, KindDelayed}
	case strings.HasPrefix(s, "complaint"):
		return []Kind{KindComplaint}
	case strings.HasPrefix(s, "delivered"):
		return []Kind{KindDelivery}
	case strings.HasPrefix(s, "suppression"):
		return []Kind{KindUnsubscribe}
	}
	return nil
}

var statusCell = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}`)

// checkFacts compares events with a row's recipients, severity and status.
func checkFacts(t *testing.T, row corpusRow, evs []Event) {
	t.Helper()
	var got []string
	for _, e := range evs {
		got = append(got, e.Email)
	}
	var want []string
	if r := row["recipients"]; r != "" {
		for _, a := range strings.Split(r, ",") {
			want = append(want, strings.ToLower(strings.TrimSpace(a)))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("recipients %v, index says %v", got, want)
	}
	if kinds := kindsFor(row["severity"]); kinds != nil {
		for _, e := range evs {
			if !slices.Contains(kinds, e.Kind) {
				t.Errorf("%s: kind %s, index says %q", e.Email, e.Kind, row["severity"])
			}
		}
	}
	if st := statusCell.FindString(row["status"]); st != "" {
		for _, e := range evs {
			if e.Status != st {
				t.Errorf("%s: status %q, index says %q", e.Email, e.Status, row["status"])
			}
		}
	}
	for _, e := range evs {
		if e.ID == "" {
			t.Errorf("%s: no ID", e.Email)
		}
	}
	t.Logf("%s: %d events %+v", row["file"], len(evs), evs)
}

// TestCorpus decodes every webhook payload of the shared corpus through
// the verifying entry points, re-signed with test keys where the format
// allows (the corpus's own signatures cannot be checked: see its
// PROVENANCE.md), and checks the facts its index states.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	rows := readCorpusIndex(t, dir)
	f := newSNSFixture(t)
	seen := map[string]int{}
	for _, row := range rows {
		kind := row["kind"]
		switch kind {
		case "ses", "postmark", "mailgun", "sendgrid", "sendgrid-sigvector":
		default:
			continue
		}
		seen[kind]++
		t.Run(row["file"], func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(dir, row["file"]))
			if err != nil {
				t.Fatal(err)
			}
			switch kind {
			case "ses":
				corpusSES(t, f, row, body)
			case "postmark":
				evs, err := DecodePostmark(body, "parley", "s3cret", basicAuth("parley", "s3cret"))
				if err != nil {
					t.Fatal(err)
				}
				checkFacts(t, row, evs)
			case "mailgun":
				now := time.Now()
				if _, err := DecodeMailgun(context.Background(), body, mailgunKey, &MemoryTokenCache{}, now); !errors.Is(err, ErrUnauthorized) {
					t.Errorf("placeholder signature: err %v, want ErrUnauthorized", err)
				}
				evs, err := DecodeMailgun(context.Background(), signMailgun(t, body, mailgunKey, now), mailgunKey, &MemoryTokenCache{}, now)
				if err != nil {
					t.Fatal(err)
				}
				checkFacts(t, row, evs)
			case "sendgrid":
				key := sendGridKey()
				evs, err := DecodeSendGrid(body, &key.PublicKey, signSendGrid(t, key, "1609459200", body), "1609459200")
				if err != nil {
					t.Fatal(err)
				}
				checkFacts(t, row, evs)
			case "sendgrid-sigvector":
				corpusSendGridVector(t, body)
			}
		})
	}
	for _, k := range []string{"ses", "postmark", "mailgun", "sendgrid", "sendgrid-sigvector"} {
		if seen[k] == 0 {
			t.Errorf("no %s rows in the corpus index", k)
		}
	}
}

// corpusSES decodes an SES corpus file: a bare SES notification is wrapped
// in an SNS Notification signed by the test certificate; an SNS message
// keeps its fields and gets the test certificate and a new signature.
func corpusSES(t *testing.T, f *snsFixture, row corpusRow, body []byte) {
	var env map[string]any
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	typ, _ := env["Type"].(string)
	if typ == "" {
		evs, _, err := DecodeSES(context.Background(), f.v, f.notification(t, string(body), "1"))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if !strings.HasPrefix(e.ID, "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324/") {
				t.Errorf("ID %q is not MessageId/recipient", e.ID)
			}
		}
		checkFacts(t, row, evs)
		return
	}
	m := map[string]string{}
	for k, v := range env {
		if s, ok := v.(string); ok {
			m[k] = s
		}
	}
	m["SigningCertURL"] = f.certURL
	signed := signSNS(t, testKeys().snsKey, f.certURL, m)
	v := &SNSVerifier{
		Topics:        []string{m["TopicArn"]},
		HTTPClient:    f.v.HTTPClient,
		Roots:         f.v.Roots,
		AutoSubscribe: true,
		// The test server, and SNS's own hosts for SubscribeURL.
		HostOK: func(h string) bool { return h == f.host || snsHostOK(h) },
	}
	evs, sub, err := DecodeSES(context.Background(), v, signed)
	if err != nil {
		t.Fatal(err)
	}
	if typ == "SubscriptionConfirmation" {
		if sub == nil || sub.URL != m["SubscribeURL"] || len(evs) != 0 {
			t.Errorf("subscription %+v, %d events", sub, len(evs))
		}
		v.AutoSubscribe = false
		if _, sub, err := DecodeSES(context.Background(), v, signed); sub != nil || err != nil {
			t.Errorf("AutoSubscribe off: subscription %+v, err %v", sub, err)
		}
	}
	for _, e := range evs {
		if e.ID != m["MessageId"]+"/"+e.Email {
			t.Errorf("ID %q is not MessageId/recipient", e.ID)
		}
	}
	checkFacts(t, row, evs)
}

// corpusSendGridVector checks SendGrid's official signed test vector with
// its own public key. The signed bytes are the Ruby fixture's PAYLOAD:
// the to_json of its one-event array, then CRLF; they are rebuilt here
// from the fixture's hash literal, keys in the order written.
func corpusSendGridVector(t *testing.T, rb []byte) {
	consts := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*([A-Z_]+) = '([^']*)'\.freeze`).FindAllSubmatch(rb, -1) {
		consts[string(m[1])] = string(m[2])
	}
	open := bytes.Index(rb, []byte("PAYLOAD = \"#{[\n"))
	end := bytes.Index(rb, []byte("].to_json}"))
	if open < 0 || end < open || consts["PUBLIC_KEY"] == "" || consts["SIGNATURE"] == "" || consts["TIMESTAMP"] == "" {
		t.Fatalf("fixture layout not understood: %v", consts)
	}
	var payload bytes.Buffer
	enc := json.NewEncoder(&payload)
	enc.SetEscapeHTML(false) // Ruby's to_json leaves < and > alone
	payload.WriteString("[{")
	n := 0
	pair := regexp.MustCompile(`^'?([a-z_-]+)'?: (?:'([^']*)'|([0-9_]+)),?$`)
	for _, line := range strings.Split(string(rb[open:end]), "\n") {
		m := pair.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if n > 0 {
			payload.WriteByte(',')
		}
		n++
		enc.Encode(m[1])
		payload.Truncate(payload.Len() - 1) // Encode's newline
		payload.WriteByte(':')
		if m[3] != "" {
			payload.WriteString(strings.ReplaceAll(m[3], "_", ""))
		} else {
			enc.Encode(m[2])
			payload.Truncate(payload.Len() - 1)
		}
	}
	payload.WriteString("}]\r\n")
	body := payload.Bytes()
	if n != 7 {
		t.Fatalf("read %d fields of the event, want 7: %s", n, body)
	}

	key, err := ParseSendGridPublicKey(consts["PUBLIC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	evs, err := DecodeSendGrid(body, key, consts["SIGNATURE"], consts["TIMESTAMP"])
	if err != nil {
		t.Fatalf("official vector does not verify: %v\npayload %q", err, body)
	}
	if len(evs) != 1 || evs[0].Email != "hello@world.com" || evs[0].ID != "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA" ||
		evs[0].Diagnostic != "Bounced Address" || !evs[0].At.Equal(time.Unix(1600112492, 0)) {
		t.Errorf("events %+v", evs)
	}
	t.Logf("official vector verifies: %+v", evs)

	failingKey, err := ParseSendGridPublicKey(consts["FAILING_PUBLIC_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		key              string
		sig, ts, payload string
	}{
		"FAILING_PUBLIC_KEY": {"failing", consts["SIGNATURE"], consts["TIMESTAMP"], string(body)},
		"FAILING_SIGNATURE":  {"good", consts["FAILING_SIGNATURE"], consts["TIMESTAMP"], string(body)},
		"without CRLF":       {"good", consts["SIGNATURE"], consts["TIMESTAMP"], strings.TrimSuffix(string(body), "\r\n")},
		"other timestamp":    {"good", consts["SIGNATURE"], "1600112503", string(body)},
	} {
		k := key
		if tc.key == "failing" {
			k = failingKey
		}
		if _, err := DecodeSendGrid([]byte(tc.payload), k, tc.sig, tc.ts); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: err %v, want ErrUnauthorized", name, err)
		}
	}
}
