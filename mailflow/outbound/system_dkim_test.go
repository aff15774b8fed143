package outbound

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/parleymail/parley/mailflow/notice"
)

// TestSystemMailIsSigned: with a DKIM key, the mail Parley writes itself
// (verification and reset links, notices) is signed like group mail and
// verifies against the published record.
func TestSystemMailIsSigned(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dk, err := LoadDKIM("lists.example.org", "parley", writePEM(t, "PRIVATE KEY", der))
	if err != nil {
		t.Fatal(err)
	}
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	dir := t.TempDir()
	w := &SystemMailWorker{Transport: NewFile(dir), From: "Parley <no-reply@lists.example.org>", MailDomain: "lists.example.org",
		DKIM: dk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	job := &river.Job[notice.Args]{JobRow: &rivertype.JobRow{}, Args: notice.Args{To: "ann@example.org", Subject: "Confirm your email address",
		Text: "Open this link:\nhttps://lists.example.org/verify-email?token=abc\n",
		HTML: `<p><a href="https://lists.example.org/verify-email?token=abc">Confirm</a></p>`}}
	if err := w.Work(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(files) != 1 {
		t.Fatalf("%d files in the outbox, want 1", len(files))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	// The file transport may prepend its envelope headers; verify the message itself.
	if i := bytes.Index(raw, []byte("DKIM-Signature:")); i > 0 {
		raw = raw[i:]
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), dkimLookup(record))
	if err != nil || len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != "lists.example.org" {
		t.Fatalf("verification: %v %+v\n%s", err, vs, raw)
	}
	// Both parts, text first, as multipart/alternative; still marked as
	// automatic and as Parley's own.
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := mr.Header.ContentType(); ct != "multipart/alternative" {
		t.Errorf("Content-Type %q, want multipart/alternative", ct)
	}
	if mr.Header.Get("Auto-Submitted") != "auto-generated" || mr.Header.Get(LoopHeader) == "" {
		t.Errorf("headers lost: Auto-Submitted %q, %s %q", mr.Header.Get("Auto-Submitted"), LoopHeader, mr.Header.Get(LoopHeader))
	}
	var types []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		ct, _, _ := p.Header.(*mail.InlineHeader).ContentType()
		b, _ := io.ReadAll(p.Body)
		if !strings.Contains(string(b), "https://lists.example.org/verify-email?token=abc") {
			t.Errorf("the %s part lost its link:\n%s", ct, b)
		}
		types = append(types, ct)
	}
	if strings.Join(types, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", types)
	}
}
