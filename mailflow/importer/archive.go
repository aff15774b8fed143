package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/store"
)

// SubjectWindow is how far from a thread's last message a message with
// the same normalized subject, and no header naming what it answers,
// still joins the thread.
const SubjectWindow = 30 * 24 * time.Hour

// Limits on what one archived message keeps.
const (
	maxBody      = 200_000 // bytes of text, as posts (a longer one keeps its start; raw_source has it all)
	maxMessageID = 900     // bytes: a longer Message-ID is replaced, as the database indexes it
	maxRefs      = 50      // the newest References followed
)

// MboxOptions tune ImportMbox.
type MboxOptions struct {
	// MaxMessageBytes bounds one message (0: DefaultMaxMessageBytes);
	// larger ones are skipped as unreadable.
	MaxMessageBytes int
	// Progress, when set, is called after each message with the number of
	// messages read and of bytes of the file read.
	Progress func(messages int, bytesRead int64)
}

// ArchiveResult is what ImportMbox did.
type ArchiveResult struct {
	Imported     int // messages stored
	Threads      int // threads they went into (new or existing)
	NewThreads   int
	AlreadyThere int // skipped: the group has their Message-ID
	Unreadable   int // skipped: unparseable, no From address, too large
	Problems     []Problem
}

// Skipped is every message not imported.
func (r ArchiveResult) Skipped() int { return r.AlreadyThere + r.Unreadable }

// Summary is the result in one line, for people.
func (r ArchiveResult) Summary() string {
	return fmt.Sprintf("imported %s in %s, skipped %d (already there: %d, unreadable: %d)",
		plural(r.Imported, "message"), plural(r.Threads, "thread"), r.Skipped(), r.AlreadyThere, r.Unreadable)
}

// archive is the state of one ImportMbox run.
type archive struct {
	im       *Importer
	g        mailflow.Group
	res      ArchiveResult
	authors  map[string]*int64 // address → verified user's id (nil: none)
	threads  map[int64]bool    // threads imported into
	lastDate time.Time
}

// ImportMbox imports an mbox archive (see MboxReader) into g's threads,
// in file order, one message per transaction, mailing nothing:
//
//   - A message whose Message-ID the group has is skipped, so running an
//     import again is safe. One without a Message-ID gets a stable one
//     made from the SHA-256 of its bytes.
//   - Its author is the verified account with its From address, if any;
//     otherwise it has no author and keeps the address (archive authors
//     never get accounts).
//   - It keeps its Date (or its "From " line's date) as when it was
//     posted and approved.
//   - It joins the thread of the newest message its In-Reply-To and
//     References name that is already in the group; failing that (Mailman
//     archives often lack those headers), the thread with the same
//     normalized subject (NormalizeSubject) whose last message is within
//     SubjectWindow; failing that, it starts a thread. A reply that comes
//     before its parent in the file starts its own thread unless its
//     subject joins it.
//
// Messages that cannot be read (not a message, no From address, too
// large) are skipped and reported with the line they start on. The error
// is for a read or database failure; the result says what was done
// before it.
func (im *Importer) ImportMbox(ctx context.Context, g mailflow.Group, r io.Reader, o MboxOptions) (ArchiveResult, error) {
	a := &archive{im: im, g: g, authors: map[string]*int64{}, threads: map[int64]bool{}}
	mr := NewMboxReader(r, o.MaxMessageBytes)
	n := 0
	for {
		msg, err := mr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return a.res, fmt.Errorf("reading the archive at line %d: %w", mr.line, err)
		}
		n++
		if err := a.one(ctx, msg); err != nil {
			return a.res, fmt.Errorf("message at line %d: %w", msg.Line, err)
		}
		if o.Progress != nil {
			o.Progress(n, mr.Offset())
		}
	}
	a.res.Threads = len(a.threads)
	return a.res, im.audit(ctx, g, "group.import_archive", map[string]any{
		"imported": a.res.Imported, "threads": a.res.Threads, "already": a.res.AlreadyThere, "unreadable": a.res.Unreadable})
}

func (a *archive) skip(line int, msg string) {
	a.res.Unreadable++
	a.res.Problems = append(a.res.Problems, Problem{Line: line, Msg: msg})
}

// one imports one message; an error stops the import.
func (a *archive) one(ctx context.Context, msg *MboxMessage) error {
	if msg.TooLarge {
		a.skip(msg.Line, "the message is too large")
		return nil
	}
	p, err := mailparse.Parse(msg.Raw, mailparse.Limits{MaxAttachmentBytes: 1}) // attachments: names and sizes only
	if err != nil {
		a.skip(msg.Line, "not a message: "+err.Error())
		return nil
	}
	from := fromAddress(p)
	if from == "" {
		a.skip(msg.Line, "no From address")
		return nil
	}

	msgID := clean(p.MessageID)
	if msgID == "" || len(msgID) > maxMessageID {
		sum := sha256.Sum256(msg.Raw)
		msgID = hex.EncodeToString(sum[:]) + "@import.invalid"
	}
	// The message's own ID and those it answers, newest answered first:
	// In-Reply-To, then References from the end.
	var answers []string
	for _, id := range p.InReplyTo {
		answers = appendID(answers, id)
	}
	for i := len(p.References) - 1; i >= 0 && len(answers) < maxRefs; i-- {
		answers = appendID(answers, p.References[i])
	}
	refs, err := a.im.Store.MessageRefs(ctx, a.g.ID, append([]string{msgID}, answers...))
	if err != nil {
		return err
	}
	if _, ok := refs[msgID]; ok {
		a.res.AlreadyThere++
		return nil
	}

	date := p.Date
	if date.IsZero() {
		date = fromLineDate(msg.FromLine)
	}
	if date.IsZero() {
		date = a.lastDate // keeps the file's order
	}
	if date.IsZero() {
		date = time.Now()
	}
	a.lastDate = date

	subject := cleanSubject(p.Subject)
	m := store.ImportedMessage{
		GroupID:   a.g.ID,
		FromEmail: from,
		MessageID: msgID,
		Subject:   subject,
		Body:      body(p.Text),
		RawSource: msg.Raw,
		Date:      date,
	}
	if len(p.InReplyTo) > 0 {
		m.InReplyTo = clean(p.InReplyTo[0])
	}
	if m.Subject == "" {
		m.Subject = "(no subject)"
	}
	for _, id := range answers {
		if r, ok := refs[id]; ok && !r.Private {
			m.ThreadID, m.ParentID = r.ThreadID, &r.ID
			break
		}
	}
	if m.ThreadID == 0 {
		if m.ThreadID, err = a.threadBySubject(ctx, subject, date); err != nil {
			return err
		}
	}
	if m.AuthorID, err = a.author(ctx, from); err != nil {
		return err
	}
	_, threadID, err := a.im.Store.ImportMessage(ctx, m)
	if errors.Is(err, mailflow.ErrDuplicate) {
		// Imported at the same time by another run.
		a.res.AlreadyThere++
		return nil
	}
	if err != nil {
		return err
	}
	a.res.Imported++
	if m.ThreadID == 0 {
		a.res.NewThreads++
	}
	a.threads[threadID] = true
	return nil
}

// threadBySubject finds the thread a message without known references
// joins by its subject, or 0.
func (a *archive) threadBySubject(ctx context.Context, subject string, at time.Time) (int64, error) {
	core := subjectCore(subject)
	key := strings.ToLower(core)
	if key == "" || key == "(no subject)" {
		return 0, nil // nothing to match on: unrelated messages would be joined
	}
	cands, err := a.im.Store.ThreadsEndingWith(ctx, a.g.ID, core, at, SubjectWindow, 20)
	if err != nil {
		return 0, err
	}
	for _, c := range cands {
		if NormalizeSubject(c.Subject) == key {
			return c.ID, nil
		}
	}
	return 0, nil
}

// author returns the id of the verified account with this address, if
// any. Unverified accounts are not trusted with a member's history: anyone
// can sign up with an address.
func (a *archive) author(ctx context.Context, from string) (*int64, error) {
	if id, ok := a.authors[from]; ok {
		return id, nil
	}
	var id *int64
	u, err := a.im.Store.UserByEmail(ctx, from)
	switch {
	case err == nil && u.Verified():
		id = &u.ID
	case err != nil && !errors.Is(err, mailflow.ErrNotFound):
		return nil, err
	}
	a.authors[from] = id
	return id, nil
}

// fromAddress is the message's From address, lowercased. Mailman's
// public archives hide addresses as "alice at example.org"; that is
// read back too.
func fromAddress(p *mailparse.Message) string {
	addr := strings.TrimSpace(p.FromAddress)
	if !strings.Contains(addr, "@") {
		// "alice at example.org (Alice)": the address, then a comment.
		for _, s := range []string{addr, p.FromName} {
			if f := strings.Fields(s); len(f) >= 3 && f[1] == "at" {
				addr = strings.Trim(f[0], "<") + "@" + strings.Trim(f[2], ">")
				break
			}
		}
	}
	addr = strings.ToLower(clean(addr))
	if _, err := mailflow.NormalizeEmail(addr); err != nil {
		return ""
	}
	return addr
}

// clean makes a header value safe to store as text: valid UTF-8, no NUL.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(strings.TrimSpace(s), "\uFFFD"), "\x00", "")
}

func appendID(ids []string, id string) []string {
	id = clean(id)
	if id == "" || len(id) > maxMessageID {
		return ids
	}
	for _, x := range ids {
		if x == id {
			return ids
		}
	}
	return append(ids, id)
}

// body is the text shown for an archived message: parse's text, at most
// maxBody bytes (cut at a character boundary).
func body(text string) string {
	text = strings.TrimRight(strings.ReplaceAll(text, "\x00", ""), " \t\r\n")
	if strings.TrimSpace(text) == "" {
		return "(no text)"
	}
	if len(text) > maxBody {
		cut := maxBody
		for cut > 0 && !utf8RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut] + "\n\n[…]"
	}
	return text
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
