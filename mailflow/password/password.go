// Package password hashes and verifies Parley account passwords.
//
// New hashes are argon2id (RFC 9106) in the PHC string format, because
// argon2id is memory-hard: an attacker with a stolen database pays for
// memory as well as compute on every guess, which blunts GPUs and ASICs far
// more than an iterated hash does. The PHC string carries its own
// parameters, so they can be raised later without a schema change: old
// hashes keep verifying and Verify reports that they need rehashing.
//
// Verify also accepts the formats of the systems our users migrate from,
// bcrypt (OpenStax Accounts, Rails) and Django's pbkdf2_sha256 (OFA
// Connect), so nobody has to reset a password just because we moved. Every
// such hash verifies with needsRehash set, and the login handler replaces
// it with an argon2id hash while it holds the plaintext; the legacy
// formats then disappear from the database one login at a time.
//
// Stored hashes are treated as untrusted input: a corrupt or planted hash
// must not be able to make a login allocate gigabytes or spin for hours,
// so every cost parameter read from a hash is bounded before any work is
// done.
package password

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// The argon2id parameters for new hashes: OWASP's Password Storage Cheat
// Sheet minimum (m=19 MiB, t=2, p=1). Its alternatives trade memory for
// passes at equal strength, and we take the low-memory end on purpose:
// each login holds m of memory while it hashes, so concurrent logins on a
// small server cost n×19 MiB rather than n×46 MiB or more. One hash takes
// a few tens of milliseconds on a small server, which users do not notice
// and which keeps offline guessing expensive. p=1 because a login is one
// request on one core; more lanes would only let one login crowd out
// others. Raising any of these later is safe: Verify parses parameters
// from each stored hash and flags the old ones for rehashing.
const (
	memoryKiB = 19 * 1024
	timeCost  = 2
	threads   = 1
	saltLen   = 16 // RFC 9106's recommendation; unique per hash is all a salt must be
	keyLen    = 32
)

// Bounds on parameters read from stored hashes. They are generous enough
// for any hash a sane system would have written, and low enough that a
// hostile one cannot exhaust the server.
const (
	maxMemoryKiB   = 256 << 10 // 256 MiB: far above any sane setting, and a corrupt hash cannot exhaust memory
	maxTimeCost    = 20
	maxThreads     = 16
	minKeyLen      = 16
	maxKeyLen      = 128
	minSaltLen     = 8 // RFC 9106's minimum
	maxSaltLen     = 64
	bcryptLen      = 60
	maxBcryptCost  = 16 // ~2^16 Blowfish setups, seconds; Rails defaults to 12, the format allows 31 (days)
	maxDjangoIter  = 10_000_000
	djangoKeyLen   = sha256.Size // Django's PBKDF2PasswordHasher uses the digest size
	maxEncodedLen  = 512         // room for any hash within the bounds above and Django's salts
	djangoPrefix   = "pbkdf2_sha256$"
	argon2idPrefix = "$argon2id$"
)

const (
	MinLength = 8   // characters (runes), as NIST SP 800-63B
	MaxLength = 256 // bytes; bounds hashing work for absurd inputs
)

var ErrMismatch = errors.New("password: mismatch")
var ErrUnknownFormat = errors.New("password: unknown hash format")

// Check returns a user-facing message ("" if fine) for a new password: too
// short, too long, or the user's own email address or name. It checks only
// what NIST SP 800-63B asks for and deliberately has no composition rules
// (digits, symbols), which push users to predictable patterns.
func Check(pw, email, name string) string {
	if utf8.RuneCountInString(pw) < MinLength {
		return fmt.Sprintf("Use at least %d characters.", MinLength)
	}
	if len(pw) > MaxLength {
		return fmt.Sprintf("Use a shorter password (at most %d bytes).", MaxLength)
	}
	// Surrounding spaces and case do not make an email address or name any
	// harder to guess.
	p := strings.TrimSpace(pw)
	for _, s := range []string{email, name} {
		if s = strings.TrimSpace(s); s != "" && strings.EqualFold(p, s) {
			return "Choose a password that is not your email address or name."
		}
	}
	return ""
}

// Hash returns a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt b64 raw std>$<key b64 raw std>
//
// It does not apply Check: callers setting a user's password run Check
// first, and other callers (tests, tools) may have their own policy. It
// refuses only what Verify would refuse to match.
func Hash(pw string) (string, error) {
	if len(pw) > MaxLength {
		return "", fmt.Errorf("password: longer than %d bytes", MaxLength)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, timeCost, memoryKiB, threads, keyLen)
	return encodeArgon2id(memoryKiB, timeCost, threads, salt, key), nil
}

func encodeArgon2id(m, t uint32, p uint8, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, m, t, p,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// Verify checks pw against encoded, which may be an argon2id PHC string, a
// bcrypt hash ($2a$, $2b$, $2y$) or a Django pbkdf2_sha256 hash. It returns
// needsRehash=true on a match with anything but an argon2id hash with the
// current parameters, so the caller can store Hash(pw) in its place.
//
// A wrong password is ErrMismatch; a hash this package cannot or will not
// check (unknown scheme, corrupt, or cost parameters beyond our bounds) is
// ErrUnknownFormat, wrapped with detail. Django's unusable-password marker
// ("!…") is ErrUnknownFormat too: such an account has no password.
//
// A pw longer than MaxLength is ErrMismatch without hashing: Hash never
// stores one, and the legacy systems' users are not expected to have one.
// Dummy does the same, so the shortcut reveals nothing about accounts.
func Verify(pw, encoded string) (needsRehash bool, err error) {
	if len(encoded) > maxEncodedLen {
		return false, fmt.Errorf("%w: %d bytes long", ErrUnknownFormat, len(encoded))
	}
	switch {
	case strings.HasPrefix(encoded, argon2idPrefix):
		return verifyArgon2id(pw, encoded)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return verifyBcrypt(pw, encoded)
	case strings.HasPrefix(encoded, djangoPrefix):
		return verifyDjango(pw, encoded)
	}
	return false, ErrUnknownFormat
}

type argon2idHash struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

func verifyArgon2id(pw, encoded string) (bool, error) {
	h, err := parseArgon2id(encoded)
	if err != nil {
		return false, fmt.Errorf("%w: argon2id: %v", ErrUnknownFormat, err)
	}
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	key := argon2.IDKey([]byte(pw), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	if subtle.ConstantTimeCompare(key, h.key) != 1 {
		return false, ErrMismatch
	}
	current := h.m == memoryKiB && h.t == timeCost && h.p == threads &&
		len(h.salt) == saltLen && len(h.key) == keyLen
	return !current, nil
}

// parseArgon2id validates everything, bounds included, before Verify
// allocates or hashes anything.
func parseArgon2id(encoded string) (*argon2idHash, error) {
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return nil, errors.New("want 6 $-separated fields")
	}
	// Version 16 (no v= field) is a different algorithm that x/crypto
	// does not implement.
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, fmt.Errorf("version %q", parts[2])
	}
	var h argon2idHash
	var seen [3]bool
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("parameter %q", kv)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %v", k, err)
		}
		switch {
		case k == "m" && !seen[0]:
			seen[0] = true
			if n > maxMemoryKiB {
				return nil, fmt.Errorf("m=%d KiB over the limit of %d", n, maxMemoryKiB)
			}
			h.m = uint32(n)
		case k == "t" && !seen[1]:
			seen[1] = true
			if n < 1 || n > maxTimeCost {
				return nil, fmt.Errorf("t=%d outside 1..%d", n, maxTimeCost)
			}
			h.t = uint32(n)
		case k == "p" && !seen[2]:
			seen[2] = true
			if n < 1 || n > maxThreads {
				return nil, fmt.Errorf("p=%d outside 1..%d", n, maxThreads)
			}
			h.p = uint8(n)
		default:
			return nil, fmt.Errorf("unexpected or repeated parameter %q", k)
		}
	}
	if seen != [3]bool{true, true, true} {
		return nil, errors.New("want parameters m, t and p")
	}
	// x/crypto would silently raise a smaller m and compute a key that no
	// conforming implementation wrote.
	if h.m < 8*uint32(h.p) {
		return nil, fmt.Errorf("m=%d below 8*p", h.m)
	}
	var err error
	if h.salt, err = decodeBounded(parts[4], minSaltLen, maxSaltLen); err != nil {
		return nil, fmt.Errorf("salt: %v", err)
	}
	if h.key, err = decodeBounded(parts[5], minKeyLen, maxKeyLen); err != nil {
		return nil, fmt.Errorf("key: %v", err)
	}
	return &h, nil
}

func decodeBounded(s string, min, max int) ([]byte, error) {
	enc := base64.RawStdEncoding
	if n := enc.DecodedLen(len(s)); n < min || n > max {
		return nil, fmt.Errorf("%d bytes, want %d..%d", n, min, max)
	}
	return enc.DecodeString(s)
}

func verifyBcrypt(pw, encoded string) (bool, error) {
	if len(encoded) != bcryptLen {
		return false, fmt.Errorf("%w: bcrypt: %d bytes, want %d", ErrUnknownFormat, len(encoded), bcryptLen)
	}
	// Cost parses the whole hash; bounding it first keeps a planted
	// $2a$31$ hash from costing days of CPU.
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil {
		return false, fmt.Errorf("%w: bcrypt: %v", ErrUnknownFormat, err)
	}
	if cost > maxBcryptCost {
		return false, fmt.Errorf("%w: bcrypt cost %d over the limit of %d", ErrUnknownFormat, cost, maxBcryptCost)
	}
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	// Like Rails' bcrypt gem, this uses only the first 72 bytes of pw, so
	// long passwords that gem truncated still match. The comparison inside
	// is constant-time.
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, ErrMismatch
	}
	return false, fmt.Errorf("%w: bcrypt: %v", ErrUnknownFormat, err)
}

// verifyDjango checks Django's "pbkdf2_sha256$<iterations>$<salt>$<hash>",
// where salt is used as its UTF-8 bytes and hash is padded standard base64.
func verifyDjango(pw, encoded string) (bool, error) {
	parts := strings.Split(strings.TrimPrefix(encoded, djangoPrefix), "$")
	if len(parts) != 3 {
		return false, fmt.Errorf("%w: pbkdf2_sha256: want 4 $-separated fields", ErrUnknownFormat)
	}
	iter, err := strconv.ParseUint(parts[0], 10, 32)
	if err != nil || iter < 1 || iter > maxDjangoIter {
		return false, fmt.Errorf("%w: pbkdf2_sha256: iterations %q outside 1..%d", ErrUnknownFormat, parts[0], maxDjangoIter)
	}
	salt := parts[1]
	if salt == "" {
		return false, fmt.Errorf("%w: pbkdf2_sha256: empty salt", ErrUnknownFormat)
	}
	want, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(want) != djangoKeyLen {
		return false, fmt.Errorf("%w: pbkdf2_sha256: hash is not %d bytes of base64", ErrUnknownFormat, djangoKeyLen)
	}
	if len(pw) > MaxLength {
		return false, ErrMismatch
	}
	got, err := pbkdf2.Key(sha256.New, pw, []byte(salt), int(iter), djangoKeyLen)
	if err != nil {
		// Only FIPS 140-only mode refuses, over Django's short salts; the
		// hash itself is well-formed but we cannot check it.
		return false, fmt.Errorf("%w: pbkdf2_sha256: %v", ErrUnknownFormat, err)
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return true, nil
}

// dummySalt only has to be the right length; the result is discarded.
var dummySalt = make([]byte, saltLen)

// Dummy runs a hash of comparable cost and discards it; login handlers call
// it when the account does not exist so response time does not reveal which
// addresses have accounts.
//
// It matches Verify on a current argon2id hash. Accounts still on a legacy
// hash verify at that hash's cost, which differs, so their timing can stand
// out until their first login rehashes them; that gap closes as migration
// runs its course.
func Dummy(pw string) {
	if len(pw) > MaxLength {
		return // as Verify does
	}
	argon2.IDKey([]byte(pw), dummySalt, timeCost, memoryKiB, threads, keyLen)
}
