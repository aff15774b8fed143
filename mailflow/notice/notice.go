// Package notice owns the mail Parley writes on its own behalf: account
// links, invitations, answers to commands, moderation notices, the note
// that delivery stopped. A service says which kind of mail goes to whom
// with which facts (a Mail), through the Sender it was built with; the
// Renderer turns the facts into a subject, a text and an HTML part from
// templates/email/notice and queues one job in the caller's transaction,
// so the mail goes if and only if the change it tells of commits. The
// job is sent by outbound's SystemMailWorker.
package notice

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/parleymail/parley/mailflow/store"
)

// Kind names one kind of system mail; its templates are
// templates/email/notice/<kind>.txt.tmpl and <kind>.html.tmpl.
type Kind string

// Facts are what one kind of mail says; each kind has its own struct.
type Facts interface{ Kind() Kind }

// Mail is one system email to write: to whom, what, and how it threads.
type Mail struct {
	To         string
	Facts      Facts
	ReplyTo    string   // empty: none
	InReplyTo  string   // the Message-ID answered, without <>; empty: none
	References []string // before InReplyTo
	// AutoReply marks an automatic answer to someone's mail (RFC 3834
	// section 3.1.7): it goes to the null sender and says auto-replied.
	AutoReply bool
}

// Sender queues system mail in a transaction. Services depend on this,
// not on how mail is written or sent.
type Sender interface {
	Send(ctx context.Context, tx *store.Store, m Mail) error
}

// Args is the job of one rendered system email, retried like any other
// work and never lost with a request.
type Args struct {
	To         string   `json:"to"`
	Subject    string   `json:"subject"`
	Text       string   `json:"text"`
	HTML       string   `json:"html,omitempty"`        // empty: a text-only email
	InReplyTo  string   `json:"in_reply_to,omitempty"` // without <>
	References []string `json:"references,omitempty"`
	ReplyTo    string   `json:"reply_to,omitempty"`
	// AutoReply marks an automatic answer to someone's mail (RFC 3834):
	// Auto-Submitted: auto-replied and a null envelope sender, so that no
	// auto-responder answers it back. Otherwise auto-generated.
	AutoReply bool `json:"auto_reply,omitempty"`
}

// Kind names the job.
func (Args) Kind() string { return "system_mail" }

// InsertOpts: a few retries over hours, then the job is discarded.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 12} }
