package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/password"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/store"
)

// Identity is who an OpenID Connect provider says signed in.
type Identity struct {
	Issuer, Subject string
	Email           string
	EmailVerified   bool
	Name            string
}

// ErrUnverifiedIdentity: the provider did not vouch for the address, so
// it cannot sign in to (or create) the account that uses it.
var ErrUnverifiedIdentity = errors.New("your sign-in provider has not verified your email address, so Parley cannot use it")

// SignInWithIdentity returns the account an identity signs in to: the one
// linked to it before, else the one using its verified address (linked
// now), else a new account. created reports the last case.
func (s *Service) SignInWithIdentity(ctx context.Context, id Identity) (u mailflow.User, created bool, err error) {
	u, err = s.Store.UserByIdentity(ctx, id.Issuer, id.Subject)
	if err == nil {
		if u.Status != mailflow.UserActive {
			return u, false, ErrInactive
		}
		return u, false, nil
	}
	if !errors.Is(err, mailflow.ErrNotFound) {
		return u, false, err
	}
	if !id.EmailVerified {
		return u, false, ErrUnverifiedIdentity
	}
	email, err := mailflow.NormalizeEmail(id.Email)
	if err != nil {
		return u, false, fmt.Errorf("the provider gave the address %q: %w", id.Email, err)
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		u, err = tx.UserByEmail(ctx, email)
		if errors.Is(err, mailflow.ErrNotFound) {
			name := strings.TrimSpace(id.Name)
			if name == "" {
				name, _, _ = strings.Cut(email, "@")
			}
			if len([]rune(name)) > 200 {
				name = string([]rune(name)[:200])
			}
			u, err = tx.CreateUser(ctx, store.NewUser{Email: email, Name: name, Verified: true})
			created = true
		}
		if err != nil {
			return err
		}
		if u.Status != mailflow.UserActive {
			return ErrInactive
		}
		if err := tx.VerifyEmail(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.LinkIdentity(ctx, id.Issuer, id.Subject, u.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Action: "user.sso_link", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10), Details: map[string]any{"issuer": id.Issuer}})
	})
	if err != nil {
		return u, false, err
	}
	u, err = s.Store.UserByID(ctx, u.ID)
	return u, created, err
}

// Export is "Download my data": everything Parley holds that is about
// the member or by them.
type Export struct {
	ExportedAt time.Time `json:"exported_at"`
	Profile    struct {
		ID              int64      `json:"id"`
		Email           string     `json:"email"`
		EmailVerifiedAt *time.Time `json:"email_verified_at"`
		Name            string     `json:"name"`
		Title           string     `json:"title"`
		Organization    string     `json:"organization"`
		Bio             string     `json:"bio"`
		Website         string     `json:"website"`
		SocialLinks     []string   `json:"social_links"`
		Timezone        string     `json:"timezone"`
		ShowGroups      bool       `json:"show_groups"`
		HasPicture      bool       `json:"has_picture"`
		Staff           bool       `json:"staff"`
		Superuser       bool       `json:"superuser"`
		Permissions     []string   `json:"permissions"`
		TermsAcceptedAt *time.Time `json:"terms_accepted_at"`
		CreatedAt       time.Time  `json:"created_at"`
	} `json:"profile"`
	EmailSettings struct {
		DefaultDelivery string            `json:"default_delivery"`
		Groups          map[string]string `json:"groups"` // group slug → delivery
	} `json:"email_settings"`
	Memberships []ExportMembership      `json:"memberships"`
	Messages    []store.AuthoredMessage `json:"messages"`
	APITokens   []ExportToken           `json:"api_tokens"`
}

// ExportMembership is one group of the member.
type ExportMembership struct {
	Group    string    `json:"group"`
	Name     string    `json:"name"`
	Role     string    `json:"role"`
	Delivery string    `json:"delivery"`
	Since    time.Time `json:"since"`
}

// ExportToken names an API token (never its secret, which Parley does not keep).
type ExportToken struct {
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// ExportData gathers a member's data as indented JSON.
func (s *Service) ExportData(ctx context.Context, userID int64) ([]byte, error) {
	u, err := s.Store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	var x Export
	x.ExportedAt = s.now().UTC()
	p := &x.Profile
	p.ID, p.Email, p.EmailVerifiedAt, p.Name = u.ID, u.Email, u.EmailVerifiedAt, u.Name
	p.Title, p.Organization, p.Bio, p.Website, p.SocialLinks = u.Title, u.Organization, u.Bio, u.Website, u.SocialLinks
	p.Timezone, p.ShowGroups, p.HasPicture = u.Timezone, u.ShowGroups, u.PictureKey != ""
	p.Staff, p.Superuser, p.TermsAcceptedAt, p.CreatedAt = u.IsStaff, u.IsSuperuser, u.TermsAcceptedAt, u.CreatedAt
	p.Permissions = []string{}
	for _, perm := range u.Permissions {
		p.Permissions = append(p.Permissions, string(perm))
	}
	x.EmailSettings.DefaultDelivery = string(u.DefaultDelivery)
	x.EmailSettings.Groups = map[string]string{}
	groups, err := s.Store.UserGroups(ctx, userID)
	if err != nil {
		return nil, err
	}
	x.Memberships = []ExportMembership{}
	for _, g := range groups {
		x.Memberships = append(x.Memberships, ExportMembership{Group: g.Group.Slug, Name: g.Group.Name,
			Role: string(g.Membership.Role), Delivery: string(g.Membership.Delivery), Since: g.Membership.CreatedAt})
		x.EmailSettings.Groups[g.Group.Slug] = string(g.Membership.Delivery)
	}
	if x.Messages, err = s.Store.AuthoredMessages(ctx, userID); err != nil {
		return nil, err
	}
	if x.Messages == nil {
		x.Messages = []store.AuthoredMessage{}
	}
	toks, err := s.Store.ListTokens(ctx, userID)
	if err != nil {
		return nil, err
	}
	x.APITokens = []ExportToken{}
	for _, t := range toks {
		x.APITokens = append(x.APITokens, ExportToken{Name: t.Name, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt})
	}
	return json.MarshalIndent(x, "", "  ")
}

// DeleteAccount deletes the member's account after checking their
// password (accounts without one, made by single sign-on, confirm by
// typing their address instead).
func (s *Service) DeleteAccount(ctx context.Context, u mailflow.User, confirm string) error {
	if u.PasswordHash != "" {
		if _, err := password.Verify(confirm, u.PasswordHash); err != nil {
			return mailflow.Invalid("password", "This is not your password.")
		}
	} else if !strings.EqualFold(strings.TrimSpace(confirm), u.Email) {
		return mailflow.Invalid("password", "Type your email address to confirm.")
	}
	pictureKey, err := s.Store.DeleteAccount(ctx, u.ID)
	if err != nil {
		return err
	}
	s.Pictures.Drop(ctx, pictureKey)
	s.Log.Info("account deleted at its owner's request", "user", u.ID)
	return nil
}

// UpdateProfile saves the member's profile with, in the same transaction,
// a new picture (pic) or none (clear); nil and false keep the picture.
// The replaced picture's bytes go once that has committed.
func (s *Service) UpdateProfile(ctx context.Context, userID int64, p store.Profile, pic *picture.Upload, clear bool) error {
	var old string
	err := s.Pictures.Keep(ctx, pic, func(row store.PictureRow) error {
		return s.Store.Tx(ctx, func(tx *store.Store) error {
			if _, err := tx.UpdateProfile(ctx, userID, p); err != nil {
				return err
			}
			var err error
			switch {
			case row.Key != "":
				if err = tx.AddPicture(ctx, row); err == nil {
					old, err = tx.SetUserPicture(ctx, userID, row.Key)
				}
			case clear:
				old, err = tx.SetUserPicture(ctx, userID, "")
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	s.Pictures.Drop(ctx, old)
	return nil
}
