package password

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

func TestHashVerify(t *testing.T) {
	const pw = "correct horse battery staple"
	h1, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(h1, want) {
		t.Fatalf("Hash = %q, want prefix %q", h1, want)
	}
	rehash, err := Verify(pw, h1)
	if err != nil || rehash {
		t.Fatalf("Verify(own hash) = %v, %v; want false, nil", rehash, err)
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", pw + " "} {
		if _, err := Verify(wrong, h1); !errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want ErrMismatch", wrong, err)
		}
	}

	// A fresh salt per hash is what keeps equal passwords from being
	// visible as equal hashes in the database.
	h2, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if h1 == h2 {
		t.Fatal("two hashes of the same password are equal; the salt is not random")
	}
	if _, err := Verify(pw, h2); err != nil {
		t.Fatalf("second hash: %v", err)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	const pw = "openstax-user-pw"
	gen, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// The three prefixes name the same algorithm for our purposes (the
	// differences were bugs in other implementations), so the same hash
	// under each must verify.
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			h := prefix + string(gen[4:])
			rehash, err := Verify(pw, h)
			if err != nil || !rehash {
				t.Fatalf("Verify = %v, %v; want true, nil", rehash, err)
			}
			if _, err := Verify(pw+"x", h); !errors.Is(err, ErrMismatch) {
				t.Fatalf("wrong password: %v, want ErrMismatch", err)
			}
		})
	}

	// Rails' bcrypt gem hashed only the first 72 bytes of longer
	// passwords; their owners type the whole thing.
	long := strings.Repeat("0123456789", 8)
	gen, err = bcrypt.GenerateFromPassword([]byte(long[:72]), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if rehash, err := Verify(long, string(gen)); err != nil || !rehash {
		t.Fatalf("80-byte password against a 72-byte bcrypt hash: %v, %v", rehash, err)
	}
}

func TestVerifyDjango(t *testing.T) {
	// A vector computed independently of Go, with Python's hashlib (which
	// Django's PBKDF2 hasher uses):
	// base64.b64encode(hashlib.pbkdf2_hmac("sha256", "grüne Wiese 42".encode(), b"parleyNaCl7", 260000))
	const known = "pbkdf2_sha256$260000$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es="
	if got := djangoHash(t, "grüne Wiese 42", "parleyNaCl7", 260000); got != known {
		t.Fatalf("crypto/pbkdf2 gives %q, hashlib gives %q", got, known)
	}

	cases := []struct {
		name, pw, encoded string
	}{
		{"independent vector", "grüne Wiese 42", known},
		// Django 5.x's iteration count and a typical 22-character salt.
		{"computed", "ofa-connect-pw", djangoHash(t, "ofa-connect-pw", "Xq7gR2mLkP9vW3sT8yZ1aB", 1_000_000)},
		{"empty password", "", djangoHash(t, "", "parleyNaCl7", 1000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rehash, err := Verify(c.pw, c.encoded)
			if err != nil || !rehash {
				t.Fatalf("Verify = %v, %v; want true, nil", rehash, err)
			}
			if _, err := Verify(c.pw+"z", c.encoded); !errors.Is(err, ErrMismatch) {
				t.Fatalf("wrong password: %v, want ErrMismatch", err)
			}
		})
	}
}

// djangoHash builds what Django's PBKDF2PasswordHasher.encode stores.
func djangoHash(t testing.TB, pw, salt string, iter int) string {
	t.Helper()
	key, err := pbkdf2.Key(sha256.New, pw, []byte(salt), iter, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iter, salt, base64.StdEncoding.EncodeToString(key))
}

func TestVerifyArgon2idOtherParams(t *testing.T) {
	salt := []byte("0123456789abcdef")
	other := func(m, t uint32, p uint8, salt []byte, keyLen uint32) string {
		return encodeArgon2id(m, t, p, salt, argon2.IDKey([]byte("pw-from-2024"), salt, t, m, p, keyLen))
	}
	cases := []struct {
		name, pw, encoded string
	}{
		{"more passes", "pw-from-2024", other(memoryKiB, 3, threads, salt, keyLen)},
		{"less memory", "pw-from-2024", other(8192, timeCost, threads, salt, keyLen)},
		{"more lanes", "pw-from-2024", other(memoryKiB, timeCost, 2, salt, keyLen)},
		{"shorter key", "pw-from-2024", other(memoryKiB, timeCost, threads, salt, 16)},
		{"shorter salt", "pw-from-2024", other(memoryKiB, timeCost, threads, salt[:8], keyLen)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rehash, err := Verify(c.pw, c.encoded)
			if err != nil || !rehash {
				t.Fatalf("Verify = %v, %v; want true, nil", rehash, err)
			}
			if _, err := Verify(c.pw+"!", c.encoded); !errors.Is(err, ErrMismatch) {
				t.Fatalf("wrong password: %v, want ErrMismatch", err)
			}
		})
	}
}

// TestVerifyHostile needs no t.Parallel anywhere in the package: the
// allocation count is process-wide.
func TestVerifyHostile(t *testing.T) {
	const (
		salt = "c29tZXNhbHQ"                                 // 8 bytes
		key  = "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4" // 32 bytes
	)
	argon := func(params, salt, key string) string {
		return "$argon2id$v=19$" + params + "$" + salt + "$" + key
	}
	b64 := func(n int) string { return base64.RawStdEncoding.EncodeToString(make([]byte, n)) }
	gen, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{
		argon("m=4294967295,t=2,p=1", salt, key),
		argon("m=1048577,t=2,p=1", salt, key),
		argon("m=99999999999,t=2,p=1", salt, key),
		argon("m=19456,t=21,p=1", salt, key),
		argon("m=19456,t=4294967295,p=1", salt, key),
		argon("m=19456,t=0,p=1", salt, key),
		argon("m=19456,t=2,p=17", salt, key),
		argon("m=19456,t=2,p=255", salt, key),
		argon("m=19456,t=2,p=0", salt, key),
		argon("m=8,t=2,p=2", salt, key),
		argon("m=19456,t=2,p=1", salt, b64(15)),
		argon("m=19456,t=2,p=1", salt, b64(129)),
		argon("m=19456,t=2,p=1", b64(7), key),
		argon("m=19456,t=2,p=1", b64(65), key),
		argon("m=19456,t=2,p=1", salt, b64(100_000)),
		"$2a$31$" + string(gen[7:]),
		"$2b$17$" + string(gen[7:]),
		"pbkdf2_sha256$10000001$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es=",
		"pbkdf2_sha256$4294967295$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es=",
		"pbkdf2_sha256$0$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es=",
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, h := range hostile {
		if _, err := Verify("password", h); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("Verify(%.60q) = %v, want ErrUnknownFormat", h, err)
		}
	}
	runtime.ReadMemStats(&after)
	// One argon2 hash at the current parameters allocates 19 MiB, so
	// anything near that means some hostile hash was actually run.
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("rejecting hostile hashes allocated %d bytes", n)
	}
}

func TestVerifyGarbage(t *testing.T) {
	good, err := Hash("password")
	if err != nil {
		t.Fatal(err)
	}
	garbage := []string{
		"",
		"garbage",
		"password",
		"!",
		"!Vd8i9eCVwJgOT8aRVsMdPyQbBsJTIsNY4VTxcXp5", // Django's unusable password
		"$",
		"$argon2id$",
		good[:40], // cut off inside the salt
		good + "$extra",
		strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		strings.Replace(good, "$argon2id$", "$argon2d$", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "$v=19", "", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=19456,t=2", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=19456,t=2,p=1,m=19456", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=19456,t=2,p=1,x=1", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=-1,t=2,p=1", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=,t=2,p=1", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m19456,t=2,p=1", 1),
		"$argon2id$v=19$m=19456,t=2,p=1$!!!!!!!!!!!$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ=$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$2a$",
		"$2a$04$tooshort",
		"$2x$04$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"$2a$04$" + strings.Repeat("!", 53),
		"$2a$xx$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"pbkdf2_sha256$",
		"pbkdf2_sha256$1000$parleyNaCl7",
		"pbkdf2_sha256$1000$$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
		"pbkdf2_sha256$+1000$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es=",
		"pbkdf2_sha256$1000$parleyNaCl7$t666fI++/cuxVxB3hJTMmEt2b3hfW3SPbCJ9JroK5es",
		"pbkdf2_sha256$1000$parleyNaCl7$c2hvcnQ=",
		"pbkdf2_sha256$1000$sea$salt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
		"pbkdf2_sha1$1000$parleyNaCl7$G+UrfY7SKcFiV92h3yqZdCu1BEw=",
		"argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"pbkdf2_sha256$1000$" + strings.Repeat("s", 600) + "$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=",
	}
	for _, g := range garbage {
		rehash, err := Verify("password", g)
		if !errors.Is(err, ErrUnknownFormat) || rehash {
			t.Errorf("Verify(%.70q) = %v, %v; want false, ErrUnknownFormat", g, rehash, err)
		}
	}
}

func TestTooLong(t *testing.T) {
	long := strings.Repeat("a", MaxLength+1)
	if _, err := Hash(long); err == nil {
		t.Fatal("Hash accepted a password over MaxLength")
	}
	h, err := Hash(long[:MaxLength])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(long[:MaxLength], h); err != nil {
		t.Fatalf("a MaxLength password must verify: %v", err)
	}
	if _, err := Verify(long, h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify(over MaxLength) = %v, want ErrMismatch", err)
	}
	// A malformed hash is still reported as such, so a corrupt row is not
	// mistaken for a wrong password.
	if _, err := Verify(long, "garbage"); !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Verify(over MaxLength, garbage) = %v, want ErrUnknownFormat", err)
	}
	Dummy(long)
	Dummy("no-such-account")
}

func TestCheck(t *testing.T) {
	const (
		short  = "Use at least 8 characters."
		tooLng = "Use a shorter password (at most 256 bytes)."
		own    = "Choose a password that is not your email address or name."
	)
	cases := []struct {
		pw, email, name, want string
	}{
		{"", "ann@example.org", "Ann", short},
		{"1234567", "ann@example.org", "Ann", short},
		{"ééééééé", "", "", short}, // 14 bytes but 7 characters
		{"éééééééé", "", "", ""},
		{"12345678", "", "", ""},
		{strings.Repeat("a", 256), "", "", ""},
		{strings.Repeat("a", 257), "", "", tooLng},
		{strings.Repeat("é", 129), "", "", tooLng}, // 129 characters, 258 bytes
		{"Ann@Example.ORG", "ann@example.org", "Ann", own},
		{" ann@example.org ", "ann@example.org", "Ann", own},
		{"ann lee-smith", "ann@example.org", "Ann Lee-Smith", own},
		{"ann@example.org1", "ann@example.org", "Ann", ""},
		{"correct horse", "", "", ""},
		{"        ", "", " ", ""}, // a blank name is no name
	}
	for _, c := range cases {
		if got := Check(c.pw, c.email, c.name); got != c.want {
			t.Errorf("Check(%.20q, %q, %q) = %q, want %q", c.pw, c.email, c.name, got, c.want)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
