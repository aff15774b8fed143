package threads

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// threadMbox: GET /g/:slug/t/:id/mbox, the thread's approved messages
// the member sees, as an mbox file.
func (h *handler) threadMbox(c *gin.Context) {
	r, t, ok := h.loadThread(c)
	if !ok {
		return
	}
	if err := mailflow.CanDownloadRaw(r.user, r.membership); err != nil {
		h.deny(c, r, err)
		return
	}
	h.sendMbox(c, r, fmt.Sprintf("%s-thread-%d.mbox", r.group.Slug, t.ID), store.MboxFilter{ThreadID: t.ID})
}

// monthMbox: GET /g/:slug/archive/:month/mbox, the messages posted that
// (UTC) month in the group's ordinary threads.
func (h *handler) monthMbox(c *gin.Context) {
	r, ok := h.loadArchive(c)
	if !ok {
		return
	}
	if err := mailflow.CanDownloadRaw(r.user, r.membership); err != nil {
		h.deny(c, r, err)
		return
	}
	from, to, ok := parseMonth(c.Param("month"))
	if !ok {
		h.Shell.ErrorPage(c, http.StatusNotFound, "")
		return
	}
	h.sendMbox(c, r, fmt.Sprintf("%s-%s.mbox", r.group.Slug, c.Param("month")), store.MboxFilter{From: from, To: to})
}

// sendMbox streams the selected messages as application/mbox (RFC 4155)
// in the mboxrd variant. The headers go out with the first bytes, so a
// failure before them is still a clean error page.
func (h *handler) sendMbox(c *gin.Context, r reader, filename string, f store.MboxFilter) {
	out := &lazyDownload{c: c, filename: filename}
	bw := bufio.NewWriterSize(out, 32<<10)
	addr := h.groupAddress(r.group)
	err := h.Store.EachMboxMessage(c.Request.Context(), r.group.ID, f, r.viewer(), func(m store.MboxMessage) error {
		return writeMbox(bw, addr, m.CreatedAt, mboxSource(m, addr))
	})
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err != nil && !out.started:
		h.Shell.Fail(c, err)
	case err != nil:
		// Half a file has gone out: all there is left to do is stop, and
		// say why in the log.
		h.Log.Error("sending mbox", "group", r.group.Slug, "err", err)
	case !out.started:
		out.start() // no messages: an empty mbox
	}
}

// lazyDownload writes the download's headers at its first write.
type lazyDownload struct {
	c        *gin.Context
	filename string
	started  bool
}

func (w *lazyDownload) start() {
	w.started = true
	hd := w.c.Writer.Header()
	hd.Set("Content-Type", "application/mbox")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": w.filename}))
	hd.Set("Cache-Control", "private, no-store")
	w.c.Status(http.StatusOK)
}

func (w *lazyDownload) Write(p []byte) (int, error) {
	if !w.started {
		w.start()
	}
	return w.c.Writer.Write(p)
}

// mboxSource is a message as the mbox holds it: as received when it came
// by mail, else a plain RFC 5322 message built from what was posted,
// from the author's name at the group's address (never a member's own).
func mboxSource(m store.MboxMessage, groupAddr string) []byte {
	if len(m.Raw) > 0 {
		return m.Raw
	}
	name := m.AuthorName
	switch {
	case m.AuthorID == nil && m.FromEmail == "":
		name = "Deleted member"
	case m.AuthorID == nil:
		name = "Non-member"
	}
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\n") }
	header("From", (&mail.Address{Name: oneLine(name), Address: groupAddr}).String())
	header("Date", m.CreatedAt.UTC().Format(time.RFC1123Z)) // RFC 5322 §3.3
	header("Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject)))
	header("Message-ID", "<"+msgID(m.MessageID)+">")
	if id := msgID(m.InReplyTo); id != "" {
		header("In-Reply-To", "<"+id+">")
	}
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "8bit")
	b.WriteString("\n")
	b.WriteString(m.Body)
	return b.Bytes()
}

// oneLine keeps a header value to one line, so stored text can never
// add a header of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)), " ")
}

// msgID is a Message-ID's inside, without brackets or anything that
// cannot be in one.
func msgID(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '<' || r == '>' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// asctime is the date format of an mbox From_ line (RFC 4155 §2: that
// of C's asctime(), in UTC).
const asctime = "Mon Jan _2 15:04:05 2006"

// writeMbox appends one message in the mboxrd format: a From_ line, the
// message with LF line ends, any line that starts with "From " behind
// any number of ">" given one ">" more (so readers can undo it exactly),
// and an empty line.
func writeMbox(w io.Writer, sender string, date time.Time, msg []byte) error {
	if _, err := fmt.Fprintf(w, "From %s %s\n", sender, date.UTC().Format(asctime)); err != nil {
		return err
	}
	msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	msg = bytes.TrimSuffix(msg, []byte("\n"))
	for line := range bytes.SplitSeq(msg, []byte("\n")) {
		if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) {
			if _, err := w.Write([]byte(">")); err != nil {
				return err
			}
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		if _, err := w.Write([]byte("\n")); err != nil {
			return err
		}
	}
	_, err := w.Write([]byte("\n"))
	return err
}
