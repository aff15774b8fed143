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
	"hash"
	"strings"
	"sync"
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
	return appendMAC(make([]byte, 0, sha256.Size), key, purpose, []byte(msg))
}

// appendMAC appends HMAC-SHA256(key, purpose NUL msg) to dst. Each mail
// carries several signed links, so the keyed hash states are kept for
// reuse: making one per MAC was most of the cost of signing.
func appendMAC(dst []byte, key, purpose string, msg []byte) []byte {
	st := macStates.get(key)
	st.h.Reset()
	st.in = append(append(append(st.in[:0], purpose...), 0), msg...)
	st.h.Write(st.in)
	st.out = st.h.Sum(st.out[:0])
	dst = append(dst, st.out...)
	macStates.put(key, st)
	return dst
}

// macState is a keyed HMAC with buffers for its input and output (which
// the hash.Hash interface would make escape if they were the caller's).
type macState struct {
	h       hash.Hash
	in, out []byte
}

// macPools holds a pool of macStates per key. Keys are few (the current
// and previous link keys, the secret key); beyond maxKeys, states are
// made and dropped, so that no caller can grow it without bound.
type macPools struct {
	mu    sync.RWMutex
	pools map[string]*sync.Pool
}

const maxKeys = 16

var macStates macPools

func (m *macPools) pool(key string) *sync.Pool {
	m.mu.RLock()
	p := m.pools[key]
	m.mu.RUnlock()
	if p != nil {
		return p
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if p = m.pools[key]; p == nil && len(m.pools) < maxKeys {
		if m.pools == nil {
			m.pools = map[string]*sync.Pool{}
		}
		p = &sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, []byte(key))} }}
		m.pools[key] = p
	}
	return p
}

func (m *macPools) get(key string) *macState {
	if p := m.pool(key); p != nil {
		return p.Get().(*macState)
	}
	return &macState{h: hmac.New(sha256.New, []byte(key))}
}

func (m *macPools) put(key string, st *macState) {
	if p := m.pool(key); p != nil {
		p.Put(st)
	}
}
