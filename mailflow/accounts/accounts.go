// Package accounts owns an account's life: sign-up and email
// verification, sign-in with throttling, password reset and change,
// change of address, single sign-on, the data export and deletion. The web
// pages and the CLI call it; it calls the store and sends its mail through
// the same queued system-mail path as every other email Parley writes.
package accounts

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/notice"
	"github.com/parleymail/parley/mailflow/password"
	"github.com/parleymail/parley/mailflow/picture"
	"github.com/parleymail/parley/mailflow/sign"
	"github.com/parleymail/parley/mailflow/store"
	"github.com/parleymail/parley/mailflow/urls"
)

// Throttling of failed sign-ins. Five wrong passwords for one account in
// fifteen minutes locks that account's password sign-in until the oldest
// of them is fifteen minutes old; thirty from one client address (a
// script walking through accounts) locks that address the same way.
// Password reset by email keeps working throughout, so a locked-out owner
// is never stuck.
const (
	FailureWindow     = 15 * time.Minute
	MaxAccountFailure = 5
	MaxClientFailure  = 30
)

// Link lifetimes.
const (
	VerifyTTL = 7 * 24 * time.Hour
	ResetTTL  = time.Hour
)

var (
	// ErrNoAccount: no account uses the address. Parley says so on the
	// sign-in and reset pages, as Connect did (see README, "Accounts").
	ErrNoAccount = errors.New("no account uses this email address")
	// ErrWrongPassword: the password does not match.
	ErrWrongPassword = errors.New("the password is not right")
	// ErrNoPassword: the account signs in by single sign-on only.
	ErrNoPassword = errors.New("this account has no password yet: sign in with single sign-on, or set one with “Forgot your password?”")
	// ErrBadLink: a verification or reset link that is forged, expired or used.
	ErrBadLink = errors.New("this link is not valid any more")
	// ErrInactive: the account is banned or deactivated.
	ErrInactive = errors.New("this account is not active")
)

// ThrottledError says that something (sign-in, reset emails) is locked
// for a while.
type ThrottledError struct {
	Wait time.Duration
	What string // the sentence before "Try again…"; empty: failed sign-ins
}

func (e *ThrottledError) Error() string {
	m := int((e.Wait + time.Minute - 1) / time.Minute)
	when := fmt.Sprintf("%d minutes", m)
	if m <= 1 {
		when = "1 minute"
	}
	if e.What != "" {
		return e.What + " Try again in " + when + "."
	}
	return "Too many failed sign-ins. Try again in " + when + ", or reset your password."
}

// Limits on mail that anyone can make Parley send, so that nobody can
// turn it against someone's inbox: reset emails per address and per
// client, new verification emails per account, and sign-ups per client.
const (
	mailWindow        = time.Hour
	MaxResetPerEmail  = 3
	MaxResetPerClient = 10
	MaxResendPerUser  = 3
	MaxSignupsPerIP   = 20
)

// limit refuses an event under key when max happened within window, and
// records it otherwise. It shares the sign-in failures' table: one
// sliding-window count per key, the same on every daemon.
func (s *Service) limit(ctx context.Context, key string, max int, window time.Duration, what string) error {
	if err := s.throttled(ctx, key, max, window, what); err != nil {
		return err
	}
	return s.Store.RecordEvent(ctx, s.now(), key)
}

// throttled is a *ThrottledError when max events under key happened
// within window.
func (s *Service) throttled(ctx context.Context, key string, max int, window time.Duration, what string) error {
	n, nth, err := s.Store.RecentEvents(ctx, key, s.now().Add(-window), max)
	if err != nil {
		return err
	}
	if n >= max {
		return &ThrottledError{Wait: nth.Add(window).Sub(s.now()), What: what}
	}
	return nil
}

// Service is the account life cycle.
type Service struct {
	Store   *store.Store
	Keys    sign.Keys
	URLs    *urls.Map     // every link in the mail it sends
	Notices notice.Sender // writes and queues that mail
	// Pictures keeps profile pictures (their bytes go when the account
	// or the picture does).
	Pictures *picture.Gallery
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// SignupInput is the sign-up form.
type SignupInput struct {
	Email, Name, Password, Timezone string
	ClientIP                        string // for the per-client limit; empty: none (the CLI)
	// Invite is the token of the invitation link the sign-up came from
	// (empty: none). When it was sent to this very address, the link
	// already proved the address: it is not asked to be confirmed again.
	Invite string
}

// Signup creates an unverified account and mails the verification link
// (or a verified one, with no link, when it comes from an invitation sent
// to the same address).
// Field problems come back as a *mailflow.FieldErrors; too many sign-ups
// from one client in an hour as a *ThrottledError.
func (s *Service) Signup(ctx context.Context, in SignupInput) (mailflow.User, error) {
	var errs mailflow.FieldErrors
	email, err := mailflow.NormalizeEmail(in.Email)
	if err != nil {
		errs.Add("email", "Enter an email address such as name@example.org.")
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		errs.Add("name", "Enter your name.")
	} else if len([]rune(name)) > 200 {
		errs.Add("name", "Use at most 200 characters.")
	}
	if msg := password.Check(in.Password, email, name); msg != "" {
		errs.Add("password", msg)
	}
	tz := in.Timezone
	if tz == "" {
		tz = "UTC"
	}
	if !ValidTimezone(tz) {
		errs.Add("timezone", "Choose a time zone from the list.")
	}
	if errs.Any() {
		return mailflow.User{}, &errs
	}
	if in.ClientIP != "" {
		if err := s.limit(ctx, "signup-ip:"+in.ClientIP, MaxSignupsPerIP, mailWindow, "Too many accounts were created from here in the last hour."); err != nil {
			return mailflow.User{}, err
		}
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return mailflow.User{}, err
	}
	invited := false
	if in.Invite != "" {
		inv, err := s.CheckInvite(ctx, in.Invite)
		invited = err == nil && strings.EqualFold(inv.Email, email)
	}
	var u mailflow.User
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		var err error
		u, err = tx.CreateUser(ctx, store.NewUser{Email: email, Name: name, PasswordHash: hash, Timezone: tz, Verified: invited})
		if errors.Is(err, mailflow.ErrDuplicate) {
			errs.Add("email", "An account already uses this address. Sign in, or reset your password.")
			return &errs
		}
		if err != nil || invited {
			return err
		}
		return s.mailVerification(ctx, tx, u, u.Email, PurposeSignup)
	})
	return u, err
}

// Why a verification link is sent.
const (
	PurposeSignup = iota
	PurposeResend
	PurposeNewAddress
)

// mailVerification queues the link that proves the member reads addr.
func (s *Service) mailVerification(ctx context.Context, tx *store.Store, u mailflow.User, addr string, why int) error {
	link := s.URLs.Verify(u.ID, strings.ToLower(addr), s.now().Add(VerifyTTL))
	if why == PurposeNewAddress {
		link = s.URLs.ConfirmNewEmail(u.ID, strings.ToLower(addr), s.now().Add(VerifyTTL))
	}
	f := notice.Verify{Name: u.Name, Link: link, Why: notice.VerifySignup}
	switch why {
	case PurposeResend:
		f.Why = notice.VerifyResend
	case PurposeNewAddress:
		f.Why = notice.VerifyNewAddress
	}
	return s.Notices.Send(ctx, tx, notice.Mail{To: addr, Facts: f})
}

// ResendVerification mails a fresh verification link to an unverified member.
func (s *Service) ResendVerification(ctx context.Context, u mailflow.User) error {
	if u.Verified() {
		return nil
	}
	if err := s.limit(ctx, "resend:"+strconv.FormatInt(u.ID, 10), MaxResendPerUser, mailWindow,
		"We sent you several links already; look for them (and in the spam folder)."); err != nil {
		return err
	}
	return s.Store.Tx(ctx, func(tx *store.Store) error {
		return s.mailVerification(ctx, tx, u, u.Email, PurposeResend)
	})
}

// CheckVerifyLink returns the account a verification link is for,
// changing nothing (the page a link opens asks before it acts). The link
// names the address it was sent to, so a link for an old address cannot
// verify a new one: it is ErrBadLink, as are a tampered or expired one.
func (s *Service) CheckVerifyLink(ctx context.Context, token string) (mailflow.User, error) {
	l, err := s.Keys.Verify(token, s.now())
	if err != nil || l.Purpose != sign.PurposeVerify {
		return mailflow.User{}, ErrBadLink
	}
	u, err := s.Store.UserByID(ctx, l.UserID)
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && !strings.EqualFold(u.Email, l.Value)) {
		return mailflow.User{}, ErrBadLink
	}
	return u, err
}

// VerifyEmail checks a verification link (CheckVerifyLink) and marks the
// address verified.
func (s *Service) VerifyEmail(ctx context.Context, token string) (mailflow.User, error) {
	u, err := s.CheckVerifyLink(ctx, token)
	if err != nil {
		return u, err
	}
	if !u.Verified() {
		if err := s.Store.VerifyEmail(ctx, u.ID); err != nil {
			return u, err
		}
		now := s.now()
		u.EmailVerifiedAt = &now
	}
	return u, nil
}

// Authenticate checks an address and password, throttled per account and
// per client address. A legacy hash (bcrypt, Django's PBKDF2) that
// matches is replaced by an argon2id one.
func (s *Service) Authenticate(ctx context.Context, email, pw, clientIP string) (mailflow.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	acctKey, ipKey := "email:"+email, "ip:"+clientIP
	// Only failures count: the check comes first, the record on failure.
	if err := s.throttled(ctx, acctKey, MaxAccountFailure, FailureWindow, ""); err != nil {
		return mailflow.User{}, err
	}
	if err := s.throttled(ctx, ipKey, MaxClientFailure, FailureWindow, ""); err != nil {
		return mailflow.User{}, err
	}
	fail := func(err error) (mailflow.User, error) {
		if rerr := s.Store.RecordEvent(ctx, s.now(), acctKey, ipKey); rerr != nil {
			return mailflow.User{}, rerr
		}
		return mailflow.User{}, err
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if errors.Is(err, mailflow.ErrNotFound) {
		password.Dummy(pw) // the same work as a real check
		return fail(ErrNoAccount)
	}
	if err != nil {
		return u, err
	}
	if u.PasswordHash == "" {
		password.Dummy(pw)
		return fail(ErrNoPassword)
	}
	rehash, err := password.Verify(pw, u.PasswordHash)
	if errors.Is(err, password.ErrMismatch) {
		return fail(ErrWrongPassword)
	}
	if err != nil {
		return u, fmt.Errorf("checking password of user %d: %w", u.ID, err)
	}
	if u.Status != mailflow.UserActive {
		return u, ErrInactive
	}
	if err := s.Store.ClearEvents(ctx, acctKey); err != nil {
		return u, err
	}
	if rehash {
		if h, err := password.Hash(pw); err == nil {
			if err := s.Store.RehashPassword(ctx, u.ID, h); err != nil {
				s.Log.Warn("storing a rehashed password", "user", u.ID, "err", err)
			}
		}
	}
	return u, nil
}

// resetFingerprint ties a reset link to the password it replaces: any
// change of password (including the reset itself) makes it stale.
func resetFingerprint(u mailflow.User) string {
	return strconv.FormatInt(u.PasswordChangedAt.UnixMicro(), 36)
}

// RequestReset mails a password reset link, valid for an hour and once.
func (s *Service) RequestReset(ctx context.Context, email, clientIP string) error {
	if err := s.limit(ctx, "reset-ip:"+clientIP, MaxResetPerClient, mailWindow, "Too many reset emails were asked for from here."); err != nil {
		return err
	}
	u, err := s.Store.UserByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, mailflow.ErrNotFound) {
		return ErrNoAccount
	}
	if err != nil {
		return err
	}
	if u.Status != mailflow.UserActive {
		return ErrInactive
	}
	if err := s.limit(ctx, "reset:"+strings.ToLower(u.Email), MaxResetPerEmail, mailWindow,
		"We sent several reset emails to this address already; look for them (and in the spam folder)."); err != nil {
		return err
	}
	link := s.URLs.ResetPassword(u.ID, resetFingerprint(u), s.now().Add(ResetTTL))
	return s.Store.Tx(ctx, func(tx *store.Store) error {
		return s.Notices.Send(ctx, tx, notice.Mail{To: u.Email, Facts: notice.PasswordReset{Name: u.Name, Link: link}})
	})
}

// CheckResetToken returns the user a reset link is for, if it still works.
func (s *Service) CheckResetToken(ctx context.Context, token string) (mailflow.User, error) {
	l, err := s.Keys.Verify(token, s.now())
	if err != nil || l.Purpose != sign.PurposeReset {
		return mailflow.User{}, ErrBadLink
	}
	u, err := s.Store.UserByID(ctx, l.UserID)
	if errors.Is(err, mailflow.ErrNotFound) || (err == nil && resetFingerprint(u) != l.Value) {
		return mailflow.User{}, ErrBadLink
	}
	return u, err
}

// ResetPassword sets a new password from a reset link, ends every session
// of the account, forgets its failed sign-ins, and, since the link
// arrived by email, counts the address as verified.
func (s *Service) ResetPassword(ctx context.Context, token, pw string) (mailflow.User, error) {
	u, err := s.CheckResetToken(ctx, token)
	if err != nil {
		return u, err
	}
	if msg := password.Check(pw, u.Email, u.Name); msg != "" {
		return u, mailflow.Invalid("password", msg)
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return u, err
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		// Lock and recheck: two clicks on one link must not both succeed.
		cur, err := tx.UserByIDForUpdate(ctx, u.ID)
		if err != nil {
			return err
		}
		if resetFingerprint(cur) != resetFingerprint(u) {
			return ErrBadLink
		}
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if err := tx.VerifyEmail(ctx, u.ID); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, nil); err != nil {
			return err
		}
		if err := tx.ClearEvents(ctx, "email:"+strings.ToLower(u.Email)); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Action: "user.password_reset", TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10)})
	})
	return u, err
}

// ChangePassword changes a password after checking the current one, and
// ends the member's other sessions (keep is the one in use).
func (s *Service) ChangePassword(ctx context.Context, u mailflow.User, current, next string, keep []byte) error {
	var errs mailflow.FieldErrors
	if u.PasswordHash != "" {
		if _, err := password.Verify(current, u.PasswordHash); err != nil {
			errs.Add("current_password", "This is not your current password.")
		}
	}
	if msg := password.Check(next, u.Email, u.Name); msg != "" {
		errs.Add("new_password", msg)
	}
	if errs.Any() {
		return &errs
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	return s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.DeleteUserSessions(ctx, u.ID, keep); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Action: "user.password_change", TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10)})
	})
}

// RequestEmailChange mails a confirmation link to the new address; the
// account moves only when it is opened. The old address is told, so a
// hijacked session cannot quietly take the account.
func (s *Service) RequestEmailChange(ctx context.Context, u mailflow.User, pw, newEmail string) (string, error) {
	var errs mailflow.FieldErrors
	addr, err := mailflow.NormalizeEmail(newEmail)
	if err != nil {
		errs.Add("new_email", "Enter an email address such as name@example.org.")
	} else if strings.EqualFold(addr, u.Email) {
		errs.Add("new_email", "This is already your address.")
	} else if _, err := s.Store.UserByEmail(ctx, addr); err == nil {
		errs.Add("new_email", "Another account uses this address.")
	}
	if u.PasswordHash != "" {
		if _, err := password.Verify(pw, u.PasswordHash); err != nil {
			errs.Add("password", "This is not your current password.")
		}
	}
	if errs.Any() {
		return "", &errs
	}
	return addr, s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := s.mailVerification(ctx, tx, u, addr, PurposeNewAddress); err != nil {
			return err
		}
		return s.Notices.Send(ctx, tx, notice.Mail{To: u.Email, Facts: notice.AddressChange{Name: u.Name, NewAddress: addr}})
	})
}

// CheckNewEmailLink returns the member a link to confirm a new address is
// for, and the address, without changing anything: the page the link
// opens asks first, since mail scanners open links too.
func (s *Service) CheckNewEmailLink(ctx context.Context, token string) (mailflow.User, string, error) {
	l, err := s.Keys.Verify(token, s.now())
	if err != nil || l.Purpose != sign.PurposeNewEmail {
		return mailflow.User{}, "", ErrBadLink
	}
	u, err := s.Store.UserByID(ctx, l.UserID)
	if errors.Is(err, mailflow.ErrNotFound) {
		return u, "", ErrBadLink
	}
	return u, l.Value, err
}

// ConfirmEmailChange moves the account to the address a link proves.
func (s *Service) ConfirmEmailChange(ctx context.Context, token string) (mailflow.User, error) {
	u, addr, err := s.CheckNewEmailLink(ctx, token)
	if err != nil {
		return u, err
	}
	if strings.EqualFold(u.Email, addr) {
		return u, nil // opened twice
	}
	err = s.Store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.ChangeEmail(ctx, u.ID, addr); err != nil {
			return err
		}
		return tx.Audit(ctx, store.AuditEntry{ActorID: &u.ID, Action: "user.email_change", TargetType: "user",
			TargetID: strconv.FormatInt(u.ID, 10)})
	})
	if errors.Is(err, mailflow.ErrDuplicate) {
		return u, mailflow.Invalid("email", "another account took this address in the meantime")
	}
	if err != nil {
		return u, err
	}
	return s.Store.UserByID(ctx, u.ID)
}

// ValidTimezone reports whether tz is an IANA zone name Parley can use.
func ValidTimezone(tz string) bool {
	if strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return false
	}
	_, ok := mailflow.Location(tz)
	return ok
}

// zones.txt lists the canonical IANA zones (from the tz database's
// zone1970.tab), for the time zone menus.
//
//go:embed zones.txt
var zonesTxt string

// Timezones returns the zone names members choose from, UTC first.
func Timezones() []string { return strings.Fields(zonesTxt) }
