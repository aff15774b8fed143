package outbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/riverqueue/river"
)

// SystemMailArgs is one email Parley writes itself (a confirmation link,
// an answer to a command, a note to a non-member), sent by a job so it is
// retried like any other work and never lost with a request.
type SystemMailArgs struct {
	To         string   `json:"to"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text"`
	InReplyTo  string   `json:"in_reply_to,omitempty"` // without <>
	References []string `json:"references,omitempty"`
	ReplyTo    string   `json:"reply_to,omitempty"`
	// AutoReply marks an automatic answer to someone's mail (RFC 3834):
	// Auto-Submitted: auto-replied and a null envelope sender, so that no
	// auto-responder answers it back. Otherwise auto-generated.
	AutoReply bool `json:"auto_reply,omitempty"`
}

// Kind names the job.
func (SystemMailArgs) Kind() string { return "system_mail" }

// InsertOpts: a few retries over hours, then the job is discarded.
func (SystemMailArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 12} }

// SystemMailWorker sends system mail through the outbound transport.
type SystemMailWorker struct {
	river.WorkerDefaults[SystemMailArgs]
	Transport  Transport
	From       string // DEFAULT_FROM_EMAIL
	MailDomain string
	DKIM       *DKIM // sign like group mail, when configured: verification and reset mail must not look forged
	Log        *slog.Logger
}

// LoopHeader marks every email Parley sends, so mail that comes back to
// it (a forwarding loop, a careless auto-responder) is recognised.
const LoopHeader = "X-Loop"

// Work renders and sends one system email.
func (w *SystemMailWorker) Work(ctx context.Context, job *river.Job[SystemMailArgs]) error {
	msg, err := w.render(job.Args)
	if err == nil {
		msg, err = w.DKIM.Sign(msg)
	}
	if err != nil {
		w.Log.Error("system mail cannot be rendered; dropped", "to", job.Args.To, "err", err)
		return river.JobCancel(err)
	}
	from := "no-reply@" + w.MailDomain
	if a, err := mail.ParseAddress(w.From); err == nil {
		from = a.Address
	}
	if job.Args.AutoReply {
		from = "" // RFC 3834 section 3.3: answers go to the null sender
	}
	conn, err := w.Transport.Open(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Send(ctx, from, job.Args.To, msg)
	var se *SendError
	if errors.As(err, &se) && !se.Temporary {
		w.Log.Info("system mail refused", "to", job.Args.To, "err", err)
		return river.JobCancel(err)
	}
	return err
}

func (w *SystemMailWorker) render(a SystemMailArgs) ([]byte, error) {
	var h mail.Header
	from, err := mail.ParseAddress(w.From)
	if err != nil {
		return nil, fmt.Errorf("DEFAULT_FROM_EMAIL: %w", err)
	}
	to, err := mail.ParseAddress(a.To)
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	h.SetAddressList("From", []*mail.Address{from})
	h.SetAddressList("To", []*mail.Address{to})
	if a.ReplyTo != "" {
		if rt, err := mail.ParseAddress(a.ReplyTo); err == nil {
			h.SetAddressList("Reply-To", []*mail.Address{rt})
		}
	}
	h.SetSubject(oneLine(a.Subject))
	h.SetDate(time.Now())
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	h.SetMessageID("parley.sys." + hex.EncodeToString(id) + "@" + w.MailDomain)
	if a.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{oneLine(a.InReplyTo)})
		refs := append(append([]string{}, a.References...), a.InReplyTo)
		for i := range refs {
			refs[i] = oneLine(refs[i])
		}
		h.SetMsgIDList("References", refs)
	}
	if a.AutoReply {
		h.Set("Auto-Submitted", "auto-replied")
	} else {
		h.Set("Auto-Submitted", "auto-generated")
	}
	h.Set(LoopHeader, "parley@"+w.MailDomain)
	h.Set("Precedence", "auto_reply")
	h.Set("X-Auto-Response-Suppress", "All")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	var buf bytes.Buffer
	wr, err := mail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if _, err := wr.Write([]byte(strings.ReplaceAll(a.Text, "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := wr.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// oneLine keeps a header value to one line: a CR or LF from user input
// must never start a header of its own.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
