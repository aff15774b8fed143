package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

const userCols = `id, email, name, email_verified_at, password_hash, timezone,
	default_delivery, status, is_superuser, is_staff, permissions, created_at, updated_at,
	title, organization, bio, website, social_links, picture_key, show_groups, terms_accepted_at, password_changed_at,
	paused_until, plain_text_email`

func scanUser(row pgx.Row) (mailflow.User, error) { return scanUserAfter(row) }

// NewUser is what CreateUser needs.
type NewUser struct {
	Email        string
	Name         string
	Verified     bool
	Superuser    bool
	PasswordHash string // empty: no password (single sign-on only)
	Timezone     string // empty: UTC
}

// CreateUser inserts a user. A second account for the same address, in any
// case, is ErrDuplicate on field "email".
func (s *Store) CreateUser(ctx context.Context, n NewUser) (mailflow.User, error) {
	var verified *time.Time
	if n.Verified {
		now := time.Now()
		verified = &now
	}
	var hash *string
	if n.PasswordHash != "" {
		hash = &n.PasswordHash
	}
	if n.Timezone == "" {
		n.Timezone = "UTC"
	}
	u, err := scanUser(s.db.QueryRow(ctx, `
		INSERT INTO users (email, name, email_verified_at, password_hash, is_superuser, is_staff, timezone)
		VALUES ($1, $2, $3, $4, $5, $5, $6)
		RETURNING `+userCols, n.Email, n.Name, verified, hash, n.Superuser, n.Timezone))
	if err != nil {
		return u, mapErr(err, "create user")
	}
	return u, nil
}

// UserByEmail finds a user by address, whatever its case.
func (s *Store) UserByEmail(ctx context.Context, email string) (mailflow.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE lower(email) = lower($1)`, email))
	if err != nil {
		return u, mapErr(err, fmt.Sprintf("get user %q", email))
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (mailflow.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	if err != nil {
		return u, mapErr(err, fmt.Sprintf("get user %d", id))
	}
	return u, nil
}

// UserByIDForUpdate finds a user by id and locks the row until the
// transaction ends.
func (s *Store) UserByIDForUpdate(ctx context.Context, id int64) (mailflow.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1 FOR UPDATE`, id))
	if err != nil {
		return u, mapErr(err, fmt.Sprintf("lock user %d", id))
	}
	return u, nil
}

// PromoteSuperuser makes the user a superuser and staff member, as
// Connect's promote_superuser does. It reports whether anything changed.
func (s *Store) PromoteSuperuser(ctx context.Context, email string) (mailflow.User, bool, error) {
	var changed bool
	var u mailflow.User
	err := s.Tx(ctx, func(tx *Store) error {
		var err error
		u, err = tx.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		if u.IsSuperuser && u.IsStaff {
			return nil
		}
		if _, err := tx.db.Exec(ctx, `UPDATE users SET is_superuser = true, is_staff = true, updated_at = now() WHERE id = $1`, u.ID); err != nil {
			return mapErr(err, "promote superuser")
		}
		changed = true
		u.IsSuperuser, u.IsStaff = true, true
		return tx.Audit(ctx, AuditEntry{Action: "user.promote_superuser", TargetType: "user", TargetID: fmt.Sprint(u.ID)})
	})
	return u, changed, err
}

// CreateToken stores the hash of a new API token for a user.
func (s *Store) CreateToken(ctx context.Context, userID int64, name string, hash []byte) error {
	_, err := s.db.Exec(ctx, `INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)`, userID, name, hash)
	return mapErr(err, "create token")
}

// UserByTokenHash returns the active user whose unrevoked token has this
// hash, and notes the use (at most once a minute, to spare writes).
func (s *Store) UserByTokenHash(ctx context.Context, hash []byte) (mailflow.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		WITH t AS (
			UPDATE api_tokens SET last_used_at = now()
			WHERE token_hash = $1 AND revoked_at IS NULL
			  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
			RETURNING user_id
		)
		SELECT `+userCols+` FROM users
		WHERE id = coalesce((SELECT user_id FROM t),
		                    (SELECT user_id FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL))`, hash))
	if err != nil {
		return u, mapErr(err, "look up token")
	}
	return u, nil
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ActorID        *int64
	ImpersonatorID *int64
	Action         string
	TargetType     string
	TargetID       string
	Details        map[string]any
}

// Audit appends to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO audit_log (actor_id, impersonator_id, action, target_type, target_id, details)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ActorID, e.ImpersonatorID, e.Action, e.TargetType, e.TargetID, e.Details)
	return mapErr(err, "write audit log")
}

// SetPermissions replaces a user's site-wide permissions.
func (s *Store) SetPermissions(ctx context.Context, userID int64, perms []mailflow.Permission) error {
	ps := make([]string, len(perms))
	for i, p := range perms {
		ps[i] = string(p)
	}
	tag, err := s.db.Exec(ctx, `UPDATE users SET permissions = $2, updated_at = now() WHERE id = $1`, userID, ps)
	if err != nil {
		return mapErr(err, "set permissions")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// SeedMembers creates n verified users (m1@domain … mN@domain) and makes
// them members of a group who get every message. For benchmarks and load
// tests: one statement, however large n is.
func (s *Store) SeedMembers(ctx context.Context, groupID int64, n int, domain string) error {
	return s.Tx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `
			INSERT INTO users (email, name, email_verified_at)
			SELECT 'm' || i || '@' || $2, 'Member ' || i, now() FROM generate_series(1, $1) i`, n, domain); err != nil {
			return mapErr(err, "seed users")
		}
		_, err := tx.db.Exec(ctx, `
			INSERT INTO memberships (group_id, user_id, delivery)
			SELECT $1, id, 'immediate' FROM users WHERE email LIKE 'm%@' || $2 AND email ~ '^m[0-9]+@'`, groupID, domain)
		return mapErr(err, "seed memberships")
	})
}

// VerifyEmail marks a user's address as verified (they proved they
// receive mail there).
func (s *Store) VerifyEmail(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET email_verified_at = coalesce(email_verified_at, now()), updated_at = now() WHERE id = $1`, userID)
	return mapErr(err, "verify email")
}
