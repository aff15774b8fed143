package store

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleymail/parley/mailflow"
)

// Session is a signed-in browser. Only a hash of its id is stored, so a
// copy of the database does not hand out live sessions.
type Session struct {
	IDHash         []byte
	UserID         int64
	ImpersonatorID *int64
	CreatedAt      time.Time
	LastSeenAt     time.Time
	IdleExpiresAt  time.Time
	ExpiresAt      time.Time
	Rotate         bool
	UserAgent      string
	RemoteIP       string
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO sessions (id_hash, user_id, impersonator_id, idle_expires_at, expires_at, user_agent, remote_ip)
		VALUES ($1, $2, $3, $4, $5, left($6, 300), left($7, 64))`,
		se.IDHash, se.UserID, se.ImpersonatorID, se.IdleExpiresAt, se.ExpiresAt, se.UserAgent, se.RemoteIP)
	return mapErr(err, "create session")
}

// SessionUser returns a live session and its user: ErrNotFound when the
// session is unknown or past either deadline.
func (s *Store) SessionUser(ctx context.Context, idHash []byte) (Session, mailflow.User, error) {
	var se Session
	row := s.db.QueryRow(ctx, `
		SELECT s.id_hash, s.user_id, s.impersonator_id, s.created_at, s.last_seen_at, s.idle_expires_at,
		       s.expires_at, s.rotate, s.user_agent, s.remote_ip, `+prefix("u", userCols)+`
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > now() AND s.idle_expires_at > now()`, idHash)
	u, err := scanUserAfter(row, &se.IDHash, &se.UserID, &se.ImpersonatorID, &se.CreatedAt, &se.LastSeenAt,
		&se.IdleExpiresAt, &se.ExpiresAt, &se.Rotate, &se.UserAgent, &se.RemoteIP)
	if err != nil {
		return se, u, mapErr(err, "get session")
	}
	return se, u, nil
}

// TouchSession pushes the idle deadline (never past the absolute one).
func (s *Store) TouchSession(ctx context.Context, idHash []byte, idleUntil time.Time) error {
	_, err := s.db.Exec(ctx, `
		UPDATE sessions SET last_seen_at = now(), idle_expires_at = least($2, expires_at)
		WHERE id_hash = $1`, idHash, idleUntil)
	return mapErr(err, "touch session")
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, idHash)
	return mapErr(err, "delete session")
}

// DeleteUserSessions ends every session of a user except keep (nil: all).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep []byte) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)`, userID, keep)
	if err != nil {
		return 0, mapErr(err, "delete sessions")
	}
	return tag.RowsAffected(), nil
}

// RotateUserSessions asks each of the user's sessions to move to a new id
// at its next request: their privileges changed.
func (s *Store) RotateUserSessions(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE sessions SET rotate = true WHERE user_id = $1`, userID)
	return mapErr(err, "rotate sessions")
}

// PruneAccounts deletes expired sessions and sign-in failures older than
// keep: housekeeping, run now and then.
func (s *Store) PruneAccounts(ctx context.Context, keep time.Duration) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at < now() OR idle_expires_at < now()`); err != nil {
		return mapErr(err, "prune sessions")
	}
	_, err := s.db.Exec(ctx, `DELETE FROM login_failures WHERE failed_at < $1`, time.Now().Add(-keep))
	return mapErr(err, "prune login failures")
}

// RecordEvent notes one throttled event (a failed sign-in, a reset email
// sent), at at, under each key. The table is named for the first use.
func (s *Store) RecordEvent(ctx context.Context, at time.Time, keys ...string) error {
	_, err := s.db.Exec(ctx, `INSERT INTO login_failures (key, failed_at) SELECT unnest($1::text[]), $2`, keys, at)
	return mapErr(err, "record event")
}

// RecentEvents counts the events under key since since, and returns the
// time of the n-th most recent one (zero when there are fewer): when it
// leaves the window, the count drops below n again.
func (s *Store) RecentEvents(ctx context.Context, key string, since time.Time, n int) (int, time.Time, error) {
	var count int
	var nth *time.Time
	err := s.db.QueryRow(ctx, `
		SELECT count(*),
		       (SELECT failed_at FROM login_failures WHERE key = $1 AND failed_at > $2
		        ORDER BY failed_at DESC OFFSET $3 - 1 LIMIT 1)
		FROM login_failures WHERE key = $1 AND failed_at > $2`, key, since, n).Scan(&count, &nth)
	if err != nil {
		return 0, time.Time{}, mapErr(err, "count events")
	}
	if nth == nil {
		return count, time.Time{}, nil
	}
	return count, *nth, nil
}

// ClearEvents forgets the events under key (failed sign-ins, after a success).
func (s *Store) ClearEvents(ctx context.Context, key string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return mapErr(err, "clear events")
}

// Profile is what a member edits on "Manage my account".
type Profile struct {
	Name            string
	Title           string
	Organization    string
	Bio             string
	Website         string
	SocialLinks     []string
	Timezone        string
	DefaultDelivery mailflow.Delivery
	ShowGroups      bool
}

// UpdateProfile saves a member's profile.
func (s *Store) UpdateProfile(ctx context.Context, userID int64, p Profile) (mailflow.User, error) {
	if p.SocialLinks == nil {
		p.SocialLinks = []string{}
	}
	u, err := scanUser(s.db.QueryRow(ctx, `
		UPDATE users SET name = $2, title = $3, organization = $4, bio = $5, website = $6, social_links = $7,
		       timezone = $8, default_delivery = $9, show_groups = $10, updated_at = now()
		WHERE id = $1 RETURNING `+userCols,
		userID, p.Name, p.Title, p.Organization, p.Bio, p.Website, p.SocialLinks, p.Timezone, p.DefaultDelivery, p.ShowGroups))
	if err != nil {
		return u, mapErr(err, "update profile")
	}
	return u, nil
}

// SetPassword replaces a password hash. Changing the password moves
// password_changed_at, which ends every reset link issued before.
func (s *Store) SetPassword(ctx context.Context, userID int64, hash string) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET password_hash = $2, password_changed_at = clock_timestamp(), updated_at = now() WHERE id = $1`, userID, hash)
	return mapErr(err, "set password")
}

// RehashPassword stores a stronger hash of the same password (after a
// sign-in with a legacy hash); unlike SetPassword it ends no reset link.
func (s *Store) RehashPassword(ctx context.Context, userID int64, hash string) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1`, userID, hash)
	return mapErr(err, "rehash password")
}

// ChangeEmail moves an account to a new, verified address.
func (s *Store) ChangeEmail(ctx context.Context, userID int64, email string) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET email = $2, email_verified_at = now(), updated_at = now() WHERE id = $1`, userID, email)
	return mapErr(err, "change email")
}

// AcceptTerms records that the member accepted the terms of service.
func (s *Store) AcceptTerms(ctx context.Context, userID int64) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET terms_accepted_at = now(), updated_at = now() WHERE id = $1`, userID)
	return mapErr(err, "accept terms")
}

// SetRoles sets what a superuser grants on a user's page.
func (s *Store) SetRoles(ctx context.Context, userID int64, superuser, staff bool, perms []mailflow.Permission) error {
	ps := make([]string, len(perms))
	for i, p := range perms {
		ps[i] = string(p)
	}
	tag, err := s.db.Exec(ctx, `
		UPDATE users SET is_superuser = $2, is_staff = $3, permissions = $4, updated_at = now() WHERE id = $1`,
		userID, superuser, staff, ps)
	if err != nil {
		return mapErr(err, "set roles")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// SetUserStatus bans, deactivates or reactivates an account.
func (s *Store) SetUserStatus(ctx context.Context, userID int64, st mailflow.UserStatus) error {
	_, err := s.db.Exec(ctx, `UPDATE users SET status = $2, updated_at = now() WHERE id = $1`, userID, st)
	return mapErr(err, "set user status")
}

// UserByIdentity finds the account linked to an OpenID Connect subject.
func (s *Store) UserByIdentity(ctx context.Context, issuer, subject string) (mailflow.User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT `+userCols+` FROM users WHERE id = (SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2)`,
		issuer, subject))
	if err != nil {
		return u, mapErr(err, "get user by identity")
	}
	return u, nil
}

// LinkIdentity links an OpenID Connect subject to an account.
func (s *Store) LinkIdentity(ctx context.Context, issuer, subject string, userID int64) error {
	_, err := s.db.Exec(ctx, `
		INSERT INTO user_identities (issuer, subject, user_id) VALUES ($1, $2, $3)
		ON CONFLICT (issuer, subject) DO NOTHING`, issuer, subject, userID)
	return mapErr(err, "link identity")
}

// APIToken is a token as its owner sees it (never the secret).
type APIToken struct {
	ID         int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// ListTokens returns a user's unrevoked tokens, newest first.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, name, created_at, last_used_at FROM api_tokens
		WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`, userID)
	if err != nil {
		return nil, mapErr(err, "list tokens")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (APIToken, error) {
		var t APIToken
		return t, r.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.LastUsedAt)
	})
}

// RevokeToken revokes one of the user's tokens.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	tag, err := s.db.Exec(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, userID)
	if err != nil {
		return mapErr(err, "revoke token")
	}
	if tag.RowsAffected() == 0 {
		return mailflow.ErrNotFound
	}
	return nil
}

// UserGroup is one of a member's groups, as their profile lists it.
type UserGroup struct {
	Group      mailflow.Group
	Membership mailflow.Membership
}

// UserGroups returns the groups a user is an active member of, by name.
func (s *Store) UserGroups(ctx context.Context, userID int64) ([]UserGroup, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("g", groupCols)+`, m.role, m.delivery, m.status, m.whitelisted, m.echo_own_posts, m.created_at, m.updated_at
		FROM memberships m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id = $1 AND m.status = 'active'
		ORDER BY lower(g.name), g.id`, userID)
	if err != nil {
		return nil, mapErr(err, "list user groups")
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (UserGroup, error) {
		var ug UserGroup
		g, m := &ug.Group, &ug.Membership
		err := row.Scan(append(groupDest(g), &m.Role, &m.Delivery, &m.Status, &m.Whitelisted, &m.SendOwnPosts, &m.CreatedAt, &m.UpdatedAt)...)
		m.GroupID, m.UserID = g.ID, userID
		return ug, err
	})
}

// UserListing is one row of the admin's user list.
type UserListing struct {
	mailflow.User
	Groups int
}

// ListUsers returns users whose name or address contains q (all when q
// is empty), by name.
func (s *Store) ListUsers(ctx context.Context, q string, limit, offset int) ([]UserListing, error) {
	rows, err := s.db.Query(ctx, `
		SELECT `+prefix("u", userCols)+`,
		       (SELECT count(*) FROM memberships m WHERE m.user_id = u.id AND m.status = 'active')
		FROM users u
		WHERE $1 = '' OR u.name ILIKE '%' || $1 || '%' OR u.email ILIKE '%' || $1 || '%'
		ORDER BY lower(u.name), u.id LIMIT $2 OFFSET $3`, escapeLike(q), limit, offset)
	if err != nil {
		return nil, mapErr(err, "list users")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (UserListing, error) {
		var l UserListing
		u, err := scanUserAfterTail(r, &l.Groups)
		l.User = u
		return l, err
	})
}

// escapeLike makes q match literally inside a LIKE pattern.
func escapeLike(q string) string {
	out := make([]rune, 0, len(q))
	for _, r := range q {
		if r == '%' || r == '_' || r == '\\' {
			out = append(out, '\\')
		}
		out = append(out, r)
	}
	return string(out)
}

// scanUserAfter scans leading columns into before, then the user columns.
func scanUserAfter(row pgx.Row, before ...any) (mailflow.User, error) {
	var u mailflow.User
	var perms []string
	var pw *string
	err := row.Scan(append(before, userDest(&u, &perms, &pw)...)...)
	finishUser(&u, perms, pw)
	return u, err
}

// scanUserAfterTail scans the user columns, then trailing columns into after.
func scanUserAfterTail(row pgx.Row, after ...any) (mailflow.User, error) {
	var u mailflow.User
	var perms []string
	var pw *string
	err := row.Scan(append(userDest(&u, &perms, &pw), after...)...)
	finishUser(&u, perms, pw)
	return u, err
}

func userDest(u *mailflow.User, perms *[]string, pw **string) []any {
	return []any{&u.ID, &u.Email, &u.Name, &u.EmailVerifiedAt, pw, &u.Timezone,
		&u.DefaultDelivery, &u.Status, &u.IsSuperuser, &u.IsStaff, perms, &u.CreatedAt, &u.UpdatedAt,
		&u.Title, &u.Organization, &u.Bio, &u.Website, &u.SocialLinks, &u.PictureKey, &u.ShowGroups,
		&u.TermsAcceptedAt, &u.PasswordChangedAt,
		&u.PausedUntil, &u.PlainTextEmail}
}

func finishUser(u *mailflow.User, perms []string, pw *string) {
	if pw != nil {
		u.PasswordHash = *pw
	}
	u.Permissions = make([]mailflow.Permission, len(perms))
	for i, p := range perms {
		u.Permissions[i] = mailflow.Permission(p)
	}
}

// AuthoredMessage is a message as its author's data export shows it.
type AuthoredMessage struct {
	ID        int64     `json:"id"`
	Group     string    `json:"group"`
	ThreadID  int64     `json:"thread_id"`
	Subject   string    `json:"subject"`
	Body      string    `json:"body"`
	Source    string    `json:"source"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// AuthoredMessages returns everything a user posted, oldest first.
func (s *Store) AuthoredMessages(ctx context.Context, userID int64) ([]AuthoredMessage, error) {
	rows, err := s.db.Query(ctx, `
		SELECT m.id, g.slug, m.thread_id, m.subject, m.body, m.source, m.status, m.created_at
		FROM messages m JOIN groups g ON g.id = m.group_id
		WHERE m.author_id = $1 ORDER BY m.created_at, m.id`, userID)
	if err != nil {
		return nil, mapErr(err, "list authored messages")
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuthoredMessage, error) {
		var m AuthoredMessage
		return m, r.Scan(&m.ID, &m.Group, &m.ThreadID, &m.Subject, &m.Body, &m.Source, &m.Status, &m.CreatedAt)
	})
}

// DeleteAccount removes a user and the personal data Parley holds about
// their address, in one transaction: the account, its sessions, tokens,
// memberships and picture; mail queued to the address; bounce records;
// raw copies of mail they sent; sign-in failures; queued system mail;
// and their private conversations with group owners.
// Their messages stay in the group archives with no author (pages show
// "Deleted member"), because the conversations they belong to are the
// group's. Nothing is sent to the address after this commits: every
// delivery not yet handed to the mail server is gone with the membership.
// It returns the key of the picture whose row went with the account (""
// if none), so that its bytes can go once this has committed.
func (s *Store) DeleteAccount(ctx context.Context, userID int64) (pictureKey string, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		email := strings.ToLower(u.Email)
		steps := []struct {
			what, sql string
		}{
			{"scrub messages", `UPDATE messages SET from_email = '', raw_source = NULL WHERE author_id = $1 OR lower(from_email) = $2`},
			{"drop queued deliveries", `DELETE FROM deliveries WHERE (user_id = $1 OR lower(email) = $2) AND state IN ('queued', 'deferred', 'sending')`},
			{"scrub past deliveries", `UPDATE deliveries SET email = '', user_id = NULL, last_error = '' WHERE user_id = $1 OR lower(email) = $2`},
			{"drop bounce events", `DELETE FROM bounce_events WHERE lower(email) = $2`},
			{"drop bounce score", `DELETE FROM bounce_scores WHERE email = $2`},
			{"drop suppressions", `DELETE FROM suppressions WHERE lower(email) = $2`},
			{"drop auto-replies", `DELETE FROM auto_replies WHERE lower(email) = $2`},
			{"drop inbound mail", `DELETE FROM inbound_messages WHERE lower(mail_from) = $2`},
			{"drop login failures", `DELETE FROM login_failures WHERE key = 'email:' || $2`},
			{"drop picture", `DELETE FROM pictures WHERE key = (SELECT picture_key FROM users WHERE id = $1)`},
			{"scrub audit log", `UPDATE audit_log SET target_id = 'deleted-' || $1::bigint::text, details = '{}'
				WHERE target_type = 'user' AND (target_id = $1::bigint::text OR lower(target_id) = $2)`},
			{"scrub audit details", `UPDATE audit_log SET details = '{}' WHERE strpos(lower(details::text), $2) > 0`},
			{"drop queued system mail", `DELETE FROM river_job WHERE state <> 'running' AND lower(args->>'to') = $2`},
			// Deliveries name their message and user without foreign
			// keys (migration 0026): the copies of their private
			// conversations go here, found by message through the
			// (message_id, user_id) index, as the cascade from their
			// messages once removed them.
			{"drop private conversations' deliveries", `DELETE FROM deliveries WHERE message_id = ANY (ARRAY(
				SELECT m.id FROM messages m JOIN threads t ON t.id = m.thread_id WHERE t.private_member_id = $1))`},
			// Their private conversations with owners go before the
			// user, in a statement of their own: left to the users row's
			// cascade, PostgreSQL sets the messages' author to NULL and
			// deletes their thread in one statement, and then reports
			// the updated message as pointing at a missing thread.
			{"drop private conversations", `DELETE FROM threads WHERE private_member_id = $1`},
			{"delete user", `DELETE FROM users WHERE id = $1`},
		}
		for _, st := range steps {
			// Each statement gets the parameters it names (PostgreSQL
			// cannot type one it never sees).
			var args []any
			if strings.Contains(st.sql, "$1") {
				args = append(args, userID)
			}
			if strings.Contains(st.sql, "$2") {
				if len(args) == 0 {
					st.sql = strings.ReplaceAll(st.sql, "$2", "$1")
				}
				args = append(args, email)
			}
			if _, err := tx.db.Exec(ctx, st.sql, args...); err != nil {
				return mapErr(err, "delete account: "+st.what)
			}
		}
		pictureKey = u.PictureKey
		return nil
	})
	if err != nil {
		return "", err
	}
	return pictureKey, nil
}
