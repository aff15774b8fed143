package groups

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/store"
)

// MaxTrustPosts bounds Settings.TrustPosts.
const MaxTrustPosts = 100

// MaxAttachKB bounds Settings.AttachMaxKB: mail much bigger than 10 MB
// is refused by many providers (the migration holds the same bound).
const MaxAttachKB = 10240

// Settings are a group's settings as a face gives them. A nil field is
// "not given": an update leaves it as it is, a create leaves its default.
// Field names in errors are the JSON API's, which the form shares.
type Settings struct {
	Name                 *string
	Description          *string
	Category             *string // a category's slug; "" for none
	JoinPolicy           *string
	Listed               *bool
	Moderated            *bool
	MemberListVisibility *string
	ReplyTo              *string
	Location             *string
	DisplayLocation      *string
	Official             *bool // superusers only (mailflow.CanSetOfficial)
	ArchivePublic        *bool
	TrustPosts           *int
	DMARCFailure         *string
	AttachMaxKB          *int    // attach files up to this many KB to group email (0: link them all)
	SubjectTag           *string // "[tag]" before the subject of group email ("": none; never given: the group's name)
}

// Change is one create or update: the settings and, from the form, the
// people and picture saved with them in the same transaction.
type Change struct {
	Settings
	Slug *string // required to create; the group's address never changes
	// Owners: when creating, owners besides the creator; when updating,
	// every owner. Nil leaves them as they are.
	Owners *[]int64
	// Whitelist: the members whose posts skip moderation; nil leaves it.
	Whitelist    *[]int64
	Picture      *picture.Upload // a new picture; nil keeps the current one
	ClearPicture bool
	// ImpersonatorID is the superuser acting as the actor, for the audit
	// log; nil when the actor acts as themselves.
	ImpersonatorID *int64
}

// Problems are every problem with a change, in the order of the fields,
// each a *mailflow.FieldError: ErrInvalid naming its field, or the
// ErrForbidden of mailflow.CanSetOfficial for an official flag the actor
// may not change. errors.As finds the first.
type Problems []error

func (p Problems) Error() string {
	parts := make([]string, len(p))
	for i, err := range p {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

// Unwrap lets errors.Is and errors.As see each problem.
func (p Problems) Unwrap() []error { return p }

// Service creates and updates groups.
type Service struct {
	store   *store.Store
	gallery *picture.Gallery
	log     *slog.Logger
}

// New returns the service, saving through st and keeping groups' pictures
// in gallery.
func New(st *store.Store, gallery *picture.Gallery, log *slog.Logger) *Service {
	return &Service{store: st, gallery: gallery, log: log}
}

// Defaults is a new group before its settings are applied: open, listed,
// members see the member list, replies go to the group, the archive is
// for members, and mail failing DMARC is held.
func Defaults() mailflow.Group {
	return mailflow.Group{JoinPolicy: mailflow.JoinOpen, Listed: true, MemberListVisibility: mailflow.VisibleToMembers,
		ReplyTo: mailflow.ReplyToGroup, DMARCFailure: mailflow.DMARCHold}
}

// Check applies ch's settings to g as actor would change them and
// returns every problem (nil when there is none). It reads the store
// only to find the category.
func (s *Service) Check(ctx context.Context, actor *mailflow.User, g *mailflow.Group, ch Change) (Problems, error) {
	var p Problems
	if g.ID == 0 {
		switch {
		case ch.Slug == nil:
			p = append(p, mailflow.Invalid("slug", "is required"))
		default:
			if err := mailflow.ValidateSlug(*ch.Slug); err != nil {
				p = append(p, err)
			}
			g.Slug = *ch.Slug
		}
		if ch.Name == nil {
			p = append(p, mailflow.Invalid("name", "is required"))
		}
	} else if ch.Slug != nil && *ch.Slug != g.Slug {
		// The slug is the group's email address: changing it would break
		// every reply to mail already sent.
		p = append(p, mailflow.Invalid("slug", "cannot be changed"))
	}
	p = append(p, applyText(ch.Settings, g)...)
	if ch.Category != nil {
		g.CategoryID = nil
		if *ch.Category != "" {
			cat, err := s.store.CategoryBySlug(ctx, *ch.Category)
			switch {
			case errors.Is(err, mailflow.ErrNotFound):
				p = append(p, mailflow.Invalid("category", "is not a known category"))
			case err != nil:
				return nil, fmt.Errorf("finding category %q: %w", *ch.Category, err)
			default:
				g.CategoryID = &cat.ID
			}
		}
	}
	p = append(p, applyChoices(ch.Settings, g)...)
	if o := ch.Official; o != nil && *o != g.Official {
		if err := mailflow.CanSetOfficial(actor); err != nil {
			p = append(p, err) // the only ErrForbidden among the problems
		}
		g.Official = *o
	}
	if len(p) == 0 {
		return nil, nil
	}
	return p, nil
}

// checked is Check with its problems as an error.
func (s *Service) checked(ctx context.Context, actor *mailflow.User, g *mailflow.Group, ch Change) error {
	p, err := s.Check(ctx, actor, g, ch)
	if err != nil {
		return err
	}
	if p != nil {
		return p
	}
	return nil
}

// applyText applies the settings written as text.
func applyText(in Settings, g *mailflow.Group) Problems {
	var p Problems
	if in.Name != nil {
		name, err := mailflow.ValidateGroupName(*in.Name)
		if err != nil {
			p = append(p, err)
		}
		g.Name = name
	}
	if in.Description != nil {
		if err := mailflow.ValidateDescription(*in.Description); err != nil {
			p = append(p, err)
		}
		g.Description = *in.Description
	}
	if in.SubjectTag != nil {
		tag := strings.TrimSpace(*in.SubjectTag)
		if err := mailflow.ValidateSubjectTag(tag); err != nil {
			p = append(p, err)
		}
		g.SubjectTag = &tag
	}
	for _, f := range []struct {
		field string
		in    *string
		out   *string
	}{{"location", in.Location, &g.Location}, {"display_location", in.DisplayLocation, &g.DisplayLocation}} {
		if f.in == nil {
			continue
		}
		if err := mailflow.ValidateLocation(f.field, *f.in); err != nil {
			p = append(p, err)
		}
		*f.out = *f.in
	}
	return p
}

// applyChoices applies the policies and switches.
func applyChoices(in Settings, g *mailflow.Group) Problems {
	var p Problems
	var err error
	if in.JoinPolicy != nil {
		if g.JoinPolicy, err = mailflow.ParseJoinPolicy(*in.JoinPolicy); err != nil {
			p = append(p, err)
		}
	}
	if in.MemberListVisibility != nil {
		if g.MemberListVisibility, err = mailflow.ParseVisibility(*in.MemberListVisibility); err != nil {
			p = append(p, err)
		}
	}
	if in.ReplyTo != nil {
		if g.ReplyTo, err = mailflow.ParseReplyTo(*in.ReplyTo); err != nil {
			p = append(p, err)
		}
	}
	if in.DMARCFailure != nil {
		if g.DMARCFailure, err = mailflow.ParseDMARCFailure(*in.DMARCFailure); err != nil {
			p = append(p, err)
		}
	}
	for _, f := range []struct {
		in  *bool
		out *bool
	}{{in.Listed, &g.Listed}, {in.Moderated, &g.Moderated}, {in.ArchivePublic, &g.ArchivePublic}} {
		if f.in != nil {
			*f.out = *f.in
		}
	}
	if in.TrustPosts != nil {
		if n := *in.TrustPosts; n < 0 || n > MaxTrustPosts {
			p = append(p, mailflow.Invalid("trust_posts", fmt.Sprintf("must be from 0 to %d", MaxTrustPosts)))
		}
		g.TrustPosts = *in.TrustPosts
	}
	if in.AttachMaxKB != nil {
		if n := *in.AttachMaxKB; n < 0 || n > MaxAttachKB {
			p = append(p, mailflow.Invalid("attach_max_kb", fmt.Sprintf("must be from 0 to %d", MaxAttachKB)))
		}
		g.AttachMaxKB = *in.AttachMaxKB
	}
	return p
}

// Create makes a group with ch's settings, picture, extra owners and
// whitelist in one transaction; actor is its first owner. A slug in use
// is a mailflow.ErrDuplicate naming "slug".
func (s *Service) Create(ctx context.Context, actor *mailflow.User, ch Change) (mailflow.Group, error) {
	if err := mailflow.CanCreateGroup(actor); err != nil {
		return mailflow.Group{}, err
	}
	g := Defaults()
	if err := s.checked(ctx, actor, &g, ch); err != nil {
		return g, err
	}
	err := s.withPicture(ctx, &g, ch, func(tx *store.Store) error {
		var err error
		if g, err = tx.CreateGroup(ctx, g, actor.ID); err != nil { // audits group.create
			return err
		}
		if ch.Owners != nil && len(*ch.Owners) > 0 {
			if err := tx.SetOwners(ctx, g.ID, append(append([]int64{}, *ch.Owners...), actor.ID)); err != nil {
				return err
			}
		}
		if ch.Whitelist != nil && len(*ch.Whitelist) > 0 {
			return tx.SetWhitelist(ctx, g.ID, *ch.Whitelist)
		}
		return nil
	})
	return g, err
}

// Update changes g, whose actor's membership is m, as ch says, with its
// picture, owners and whitelist, in one audited transaction. Removing the
// last owner is a mailflow.ErrConflict.
func (s *Service) Update(ctx context.Context, actor *mailflow.User, g mailflow.Group, m *mailflow.Membership, ch Change) (mailflow.Group, error) {
	if err := mailflow.CanEditGroup(actor, g, m); err != nil {
		return g, err
	}
	if err := s.checked(ctx, actor, &g, ch); err != nil {
		return g, err
	}
	err := s.withPicture(ctx, &g, ch, func(tx *store.Store) error {
		var err error
		if g, err = tx.UpdateGroup(ctx, g); err != nil {
			return err
		}
		if ch.Owners != nil {
			if err := tx.SetOwners(ctx, g.ID, *ch.Owners); err != nil {
				return err
			}
		}
		if ch.Whitelist != nil {
			if err := tx.SetWhitelist(ctx, g.ID, *ch.Whitelist); err != nil {
				return err
			}
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &actor.ID, ImpersonatorID: ch.ImpersonatorID,
			Action: "group.update", TargetType: "group", TargetID: g.Slug})
	})
	return g, err
}
