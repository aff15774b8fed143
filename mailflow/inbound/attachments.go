package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/blobstore"
	"github.com/parleymail/parley/mailflow/library"
	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/store"
)

// emailTag labels the resources that came as attachments.
var emailTag = mailflow.Tag{Slug: "email", Name: "email"}

// attachments are a mailed post's files, their blobs stored and their
// resources to be recorded with the message (record, in the posting
// transaction), so that the group mail, rendered once the post commits,
// lists them: the same path the web forms take.
type attachments struct {
	lib     *library.Library
	log     *slog.Logger
	pending []*library.Pending
	skipped int
}

// prepareAttachments readies the files of a message for posting: each
// attachment the allowlist and RESOURCE_MAX_BYTES accept, uploaded by the
// message's author and tagged "email". A file that cannot be stored is
// logged and skipped, never a reason to refuse the message. Pictures of
// an HTML body (inline, with a Content-ID) are not files, and attached
// mail (message/rfc822) is not shared.
func (p *Processor) prepareAttachments(ctx context.Context, g mailflow.Group, author *mailflow.User, m *mailparse.Message) *attachments {
	a := &attachments{lib: p.Library, log: p.Log}
	if p.Library == nil {
		return a
	}
	a.skipped += p.eachAttachment(g, author, m, func(f library.File, data []byte) {
		st, err := p.Library.Stage(bytes.NewReader(data))
		var pd *library.Pending
		if err == nil {
			pd, err = p.Library.Prepare(ctx, st, f)
		}
		if a.skip(f.Filename, err) {
			return
		}
		a.pending = append(a.pending, pd)
	})
	library.SortPending(a.pending)
	return a
}

// eachAttachment calls fn with each attachment that may become a
// resource of g, counting the others in skipped.
func (p *Processor) eachAttachment(g mailflow.Group, author *mailflow.User, m *mailparse.Message, fn func(library.File, []byte)) (skipped int) {
	var uploader *int64
	if author != nil {
		uploader = &author.ID
	}
	for i, a := range m.Attachments {
		switch {
		case a.Inline && a.ContentID != "":
			continue
		case strings.HasPrefix(a.ContentType, "message/"), a.Data == nil, int64(len(a.Data)) > p.Library.MaxBytes:
			skipped++
			continue
		}
		name := a.Filename
		if name == "" {
			name = fmt.Sprintf("attachment-%d", i+1)
		}
		fn(library.File{GroupID: g.ID, UploaderID: uploader, ActorID: uploader, Filename: name,
			Tags: []mailflow.Tag{emailTag}}, a.Data)
	}
	return skipped
}

// skip logs and counts a file that could not be readied; false when err
// is nil.
func (a *attachments) skip(name string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, library.ErrUnsupported), errors.Is(err, blobstore.ErrTooLarge):
		a.log.Info("attachment not stored as a resource", "filename", name, "reason", err)
	default:
		a.log.Error("storing an attachment as a resource", "filename", name, "err", err)
	}
	a.skipped++
	return true
}

// record is the posting.Submission.Attach hook: the files become
// resources linked to the message, in its transaction.
func (a *attachments) record(ctx context.Context, tx *store.Store, msg mailflow.Message) error {
	for _, pd := range a.pending {
		if _, _, err := a.lib.Record(ctx, tx, pd, msg.ID); err != nil {
			return err
		}
	}
	return nil
}

// finish removes the staged copies, and the blobs too when the post was
// not accepted.
func (a *attachments) finish(ctx context.Context, accepted bool) {
	for _, pd := range a.pending {
		if accepted {
			a.lib.Done(pd)
		} else {
			a.lib.Discard(ctx, pd)
		}
	}
	if !accepted {
		a.pending, a.skipped = nil, 0
	}
}

// note says what became of the files, for the processing log ("" with
// none).
func (a *attachments) note() string {
	if len(a.pending)+a.skipped == 0 {
		return ""
	}
	return fmt.Sprintf("; attachments: %d stored as resources, %d skipped", len(a.pending), a.skipped)
}

// storeAttachments stores the files of a message posted already (a
// duplicate whose first run may have stopped before its files were
// recorded) as resources linked to it, each in its own transaction;
// those recorded already are skipped by the library.
func (p *Processor) storeAttachments(ctx context.Context, g mailflow.Group, author *mailflow.User, messageID int64, m *mailparse.Message) {
	if p.Library == nil {
		return
	}
	p.eachAttachment(g, author, m, func(f library.File, data []byte) {
		f.MessageID = &messageID
		st, err := p.Library.Stage(bytes.NewReader(data))
		if err == nil {
			_, _, err = p.Library.Add(ctx, st, f)
		}
		switch {
		case err == nil:
		case errors.Is(err, library.ErrUnsupported), errors.Is(err, blobstore.ErrTooLarge):
			p.Log.Info("attachment not stored as a resource", "message_id", messageID, "filename", f.Filename, "reason", err)
		default:
			p.Log.Error("storing an attachment as a resource", "message_id", messageID, "filename", f.Filename, "err", err)
		}
	})
}
