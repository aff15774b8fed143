// Package sign is the one place Parley uses HMAC: API token hashes now,
// and (from the outbound work on) signed links and addresses in email.
// Every use names its purpose in the MAC input, so a value made for one
// purpose never verifies for another.
package sign

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// TokenPrefix starts every API token, so a leaked one is easy to spot
// (and to search for in logs and repositories).
const TokenPrefix = "prl_"

// NewAPIToken returns a new random API token: 256 bits, URL-safe.
func NewAPIToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenHash is what the database stores for an API token: an HMAC keyed
// with SECRET_KEY, so a stolen database alone does not let anyone forge
// or check tokens.
func TokenHash(secretKey, token string) []byte {
	return mac(secretKey, "api-token", strings.TrimSpace(token))
}

func mac(key, purpose, msg string) []byte {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(msg))
	return h.Sum(nil)
}
