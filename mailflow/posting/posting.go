// Package posting is the one path by which a message enters a group,
// whether it comes from the JSON API, the web UI or email. It applies the
// group's membership and moderation policy (mailflow.PostDecision), then
// writes the thread, the message and whatever must follow from it (the
// delivery work that hooks add) in one transaction: a message is either
// accepted with all its consequences or not at all.
package posting

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/store"
)

// Limits on what a post may hold.
const (
	MaxSubject = 300     // characters
	MaxBody    = 200_000 // bytes of markdown
)

// Hook runs inside the accepting transaction, after the message row is
// written. An error rolls the whole post back.
type Hook func(ctx context.Context, tx *store.Store, g mailflow.Group, t mailflow.Thread, m mailflow.Message) error

// Service accepts messages into groups.
type Service struct {
	store      *store.Store
	mailDomain string
	log        *slog.Logger
	hooks      []Hook
	// decideHooks run when a moderator decides on a held message (moderate.go).
	decideHooks []DecideHook
}

// Hooks are what other services do inside posting's transactions: the
// fan-out job and moderators' notices when a message is accepted, the
// poster's notice when a moderator decides.
type Hooks struct {
	Accept []Hook
	Decide []DecideHook
}

// New returns a Service. mailDomain names generated Message-IDs.
func New(st *store.Store, mailDomain string, log *slog.Logger, h Hooks) *Service {
	return &Service{store: st, mailDomain: mailDomain, log: log, hooks: h.Accept, decideHooks: h.Decide}
}

// Submission is a message someone wants to post. Exactly one of GroupID
// (a new thread) and ThreadID (a reply) is set.
type Submission struct {
	Author    *mailflow.User // nil: mail from an address with no account
	FromEmail string         // the sender's address, for mail
	GroupID   int64
	ThreadID  int64
	Subject   string // new threads; replies default to "Re: <thread subject>"
	Body      string // markdown
	Source    mailflow.Source
	RawSource []byte // the message as received, for mail
	MessageID string // the sender's Message-ID for mail; generated when empty
	InReplyTo string // for mail: the Message-ID it answers
	// PrivateMemberID, for a new thread only, makes it private between
	// that member and the group's owners: only they read it, and only they
	// are mailed it (mailflow.PrivatePostDecision). A reply follows its
	// thread, whatever this says.
	PrivateMemberID int64
	// PrivateOwnerID, with PrivateMemberID, makes the thread private
	// between that member and this one owner only. The caller checks that
	// they are an owner (mailflow.CanWriteToOwner).
	PrivateOwnerID int64
	// ToMember, with PrivateOwnerID, lets the one addressee be any member
	// of the group who takes private messages, not only an owner
	// (mailflow.CanWritePrivately): "Write privately" and private replies.
	ToMember bool
	// Sender is, for mail, what checking its From found; nil for web and
	// API posts, whose session or token says who posts. A From that is
	// not authenticated gets no trusted member's privileges
	// (mailflow.UnauthenticatedHold), and one failing DMARC for a domain
	// with p=quarantine or p=reject is held or refused as the group says.
	Sender *mailflow.SenderAuth
	// Attach, when set, runs in the accepting transaction right after the
	// message is written and before the hooks: the web forms record the
	// message's files there, so a post and its files commit together and
	// the delivery queued with them finds the files. An error rolls the
	// post back.
	Attach func(ctx context.Context, tx *store.Store, m mailflow.Message) error
}

// Accepted is the outcome of a successful submission.
type Accepted struct {
	Group   mailflow.Group
	Thread  mailflow.Thread
	Message mailflow.Message
}

// Accept validates a submission, applies the group's policy and stores it.
// Errors: mailflow.ErrInvalid (with the field), ErrNotFound for an unknown
// group or thread, ErrNotMember, ErrForbidden, ErrDuplicate when the
// Message-ID was already accepted.
func (s *Service) Accept(ctx context.Context, sub Submission) (Accepted, error) {
	var out Accepted
	if err := checkBody(sub.Body); err != nil {
		return out, err
	}

	var thread mailflow.Thread
	var err error
	// whom a private thread is between; nil for an ordinary one
	var private *mailflow.Private
	if sub.PrivateMemberID != 0 {
		private = &mailflow.Private{MemberID: sub.PrivateMemberID, OwnerID: sub.PrivateOwnerID}
	}
	if sub.ThreadID != 0 {
		t, err := s.store.ThreadWithPrivacy(ctx, sub.ThreadID)
		if err != nil {
			return out, err
		}
		thread, sub.GroupID, private = t.Thread, t.GroupID, t.Private()
	}
	g, err := s.store.GroupByID(ctx, sub.GroupID)
	if err != nil {
		return out, err
	}
	var membership *mailflow.Membership
	if sub.Author != nil {
		if membership, err = s.store.Membership(ctx, g.ID, sub.Author.ID); err != nil {
			return out, err
		}
	}
	if sub.ThreadID != 0 && private == nil {
		if err := mailflow.CanReadThreads(sub.Author, g, membership); err != nil && sub.Author != nil {
			return out, err
		}
	}
	status, err := s.decide(ctx, sub, g, membership, private)
	if err != nil {
		return out, err
	}

	subject, err := cleanSubject(sub.Subject)
	if err != nil {
		return out, err
	}
	if sub.ThreadID == 0 && subject == "" {
		return out, mailflow.Invalid("subject", "is required")
	}
	if sub.ThreadID != 0 && subject == "" {
		subject = replySubject(thread.Subject)
	}
	msgID := strings.Trim(strings.TrimSpace(sub.MessageID), "<>")
	if msgID == "" {
		msgID = s.newMessageID()
	}

	msg := newMessage(sub, g.ID, subject, msgID, status)
	follow, err := s.autoFollows(ctx, sub.Author, membership)
	if err != nil {
		return out, err
	}

	thread, msg, err = s.commit(ctx, sub, g, thread, msg, private, follow)
	if err != nil {
		return out, err
	}
	if thread, err = s.store.ThreadByID(ctx, thread.ID); err != nil {
		return out, err
	}
	s.log.Info("message accepted", "group", g.Slug, "thread_id", thread.ID, "message_id", msg.ID, "status", msg.Status, "source", msg.Source)
	return Accepted{Group: g, Thread: thread, Message: msg}, nil
}

// commit writes the message (and its thread, when it starts one) in one
// transaction with its files and everything the hooks queue: the message
// exists with its fan-out and notices, or not at all.
// With follow, the author follows the thread (unless they chose for it
// before), in the same transaction: the reply to their post, which may
// come a second later, is mailed to them.
func (s *Service) commit(ctx context.Context, sub Submission, g mailflow.Group, thread mailflow.Thread, msg mailflow.Message, private *mailflow.Private, follow bool) (mailflow.Thread, mailflow.Message, error) {
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		var err error
		if sub.ThreadID == 0 {
			if thread, err = tx.CreateThread(ctx, g.ID, msg.Subject, msg.AuthorID); err != nil {
				return err
			}
			// Private before the hooks run, so the fan-out they queue
			// reaches the member and the owners only.
			if private != nil {
				if err := tx.SetThreadPrivate(ctx, thread.ID, *private); err != nil {
					return err
				}
			}
		} else if parent, err := tx.LastMessage(ctx, thread.ID); err == nil {
			msg.ParentID = &parent.ID
			if msg.InReplyTo == "" {
				msg.InReplyTo = parent.MessageID
			}
		} else if !errors.Is(err, mailflow.ErrNotFound) {
			return err
		}
		msg.ThreadID = thread.ID
		stored, err := tx.InsertMessage(ctx, msg)
		if err != nil {
			return err
		}
		msg = stored
		if follow && msg.AuthorID != nil {
			if err := tx.FollowThreadUnlessChosen(ctx, *msg.AuthorID, thread.ID); err != nil {
				return err
			}
		}
		if sub.Attach != nil {
			if err := sub.Attach(ctx, tx, msg); err != nil {
				return fmt.Errorf("attaching files: %w", err)
			}
		}
		for _, h := range s.hooks {
			if err := h(ctx, tx, g, thread, msg); err != nil {
				return fmt.Errorf("after accepting message: %w", err)
			}
		}
		return nil
	})
	return thread, msg, err
}

// autoFollows reports whether the author follows the thread they post
// in (mailflow.AutoFollows): asked only of members who do not get every
// message, as only they read the account setting.
func (s *Service) autoFollows(ctx context.Context, author *mailflow.User, m *mailflow.Membership) (bool, error) {
	if author == nil || !m.Active() || !mailflow.AutoFollows(true, m.Delivery) {
		return false, nil
	}
	on, err := s.store.FollowsOwnThreads(ctx, author.ID)
	return mailflow.AutoFollows(on, m.Delivery), err
}

// UnauthenticatedError refuses a mailed post whose From fails DMARC for a
// domain that asks for such mail to be quarantined or rejected, in a group
// set to refuse it.
type UnauthenticatedError struct{ Summary string }

func (e *UnauthenticatedError) Error() string {
	return "the sender's domain says mail from it must be authenticated, and this message is not (" + e.Summary + ")"
}

// cleanSubject keeps a subject to one line: it ends up in a mail header,
// where a CR or LF could otherwise add headers of its own.
func cleanSubject(s string) (string, error) {
	s = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)), " ")
	if utf8.RuneCountInString(s) > MaxSubject {
		return "", mailflow.Invalid("subject", fmt.Sprintf("must be at most %d characters", MaxSubject))
	}
	return s, nil
}

func replySubject(s string) string {
	if len(s) >= 3 && strings.EqualFold(s[:3], "re:") {
		return s
	}
	return "Re: " + s
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newMessageID makes a globally unique Message-ID (RFC 5322 §3.6.4) in
// Parley's mail domain.
func (s *Service) newMessageID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return "parley." + strings.ToLower(idEncoding.EncodeToString(b)) + "@" + s.mailDomain
}

// decide applies the group's policy to the submission: whether the post
// is approved or held, or refused with the error. A new thread to one
// owner is refused unless its addressee is an owner the author may write
// to (mailflow.CanWriteToOwner).
func (s *Service) decide(ctx context.Context, sub Submission, g mailflow.Group, membership *mailflow.Membership, private *mailflow.Private) (mailflow.MessageStatus, error) {
	var status mailflow.MessageStatus
	var err error
	if private != nil && private.OwnerID != 0 && sub.ThreadID == 0 {
		owner, err := s.store.Membership(ctx, g.ID, private.OwnerID)
		if err != nil {
			return "", err
		}
		if err := s.canAddress(ctx, sub, g, membership, owner); err != nil {
			return "", err
		}
	}
	if private != nil {
		status, err = mailflow.PrivatePostDecision(sub.Author, g, membership, *private)
	} else {
		status, err = mailflow.PostDecision(sub.Author, g, membership)
	}
	if err != nil {
		return "", err
	}
	if status == mailflow.MessageApproved && private == nil && sub.Author != nil && g.TrustPosts > 0 {
		approved, err := s.store.ApprovedPosts(ctx, g.ID, sub.Author.ID)
		if err != nil {
			return "", err
		}
		if mailflow.TrustHold(g.TrustPosts, approved, sub.Author, membership) {
			status = mailflow.MessageHeld
		}
	}
	if sub.Sender != nil {
		if sub.Sender.DMARCFailed {
			if g.DMARCFailure == mailflow.DMARCRefuse {
				return "", &UnauthenticatedError{Summary: sub.Sender.Summary}
			}
			status = mailflow.MessageHeld
		}
		if status == mailflow.MessageApproved && private == nil && !sub.Sender.Authenticated && mailflow.UnauthenticatedHold(g, membership) {
			status = mailflow.MessageHeld
		}
	}
	return status, nil
}

// canAddress: a new thread to one person needs them to be an owner, or,
// with sub.ToMember, any member who takes private messages.
func (s *Service) canAddress(ctx context.Context, sub Submission, g mailflow.Group, m, to *mailflow.Membership) error {
	if !sub.ToMember {
		return mailflow.CanWriteToOwner(sub.Author, g, m, to)
	}
	accepts, err := s.store.AcceptsPrivate(ctx, to.UserID)
	if err != nil {
		return err
	}
	return mailflow.CanWritePrivately(sub.Author, g, m, to, accepts)
}

// newMessage is the message to store for the submission.
func newMessage(sub Submission, groupID int64, subject, msgID string, status mailflow.MessageStatus) mailflow.Message {
	msg := mailflow.Message{
		GroupID:   groupID,
		FromEmail: sub.FromEmail,
		MessageID: msgID,
		Subject:   subject,
		Body:      sub.Body,
		RawSource: sub.RawSource,
		Source:    sub.Source,
		Status:    status,
		InReplyTo: strings.Trim(sub.InReplyTo, "<>"),
	}
	if sub.Sender != nil {
		msg.SenderAuth = sub.Sender.Summary
	}
	if sub.Author != nil {
		msg.AuthorID = &sub.Author.ID
		if msg.FromEmail == "" {
			msg.FromEmail = sub.Author.Email
		}
	}
	return msg
}

// checkBody refuses an empty body, and one too long or not UTF-8.
func checkBody(body string) error {
	if strings.TrimSpace(body) == "" {
		return mailflow.Invalid("body", "is required")
	}
	if len(body) > MaxBody || !utf8.ValidString(body) {
		return mailflow.Invalid("body", fmt.Sprintf("must be valid UTF-8 text of at most %d bytes", MaxBody))
	}
	return nil
}
