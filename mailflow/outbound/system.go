package outbound

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow/notice"
)

// SystemMailWorker sends system mail (written by mailflow/notice) through
// the outbound transport.
type SystemMailWorker struct {
	river.WorkerDefaults[notice.Args]
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
func (w *SystemMailWorker) Work(ctx context.Context, job *river.Job[notice.Args]) error {
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

func (w *SystemMailWorker) render(a notice.Args) ([]byte, error) {
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
	var buf bytes.Buffer
	if a.HTML == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		wr, err := mail.CreateSingleInlineWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		if err := writeCRLF(wr, a.Text); err != nil {
			return nil, err
		}
		return buf.Bytes(), wr.Close()
	}
	// Both parts, the plainest first (RFC 2046 section 5.1.4).
	mw, err := mail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct{ typ, body string }{{"text/plain", a.Text}, {"text/html", a.HTML}} {
		var ph mail.InlineHeader
		ph.SetContentType(p.typ, map[string]string{"charset": "utf-8"})
		pw, err := mw.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		if err := writeCRLF(pw, p.body); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeCRLF writes text with the CRLF line ends of mail.
func writeCRLF(w io.Writer, text string) error {
	_, err := w.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n")))
	return err
}

// oneLine keeps a header value to one line: a CR or LF from user input
// must never start a header of its own.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
