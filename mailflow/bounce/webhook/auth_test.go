package webhook

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"testing"
	"time"
)

const mailgunKey = "key-test-0123456789abcdef"

func TestMailgunAuth(t *testing.T) {
	body := readTestdata(t, "mailgun/failed-permanent.json")
	now := time.Unix(1741082400, 0)
	tokens := &MemoryTokenCache{Now: func() time.Time { return now }}

	signed := signMailgun(t, body, mailgunKey, now)
	if evs, err := DecodeMailgun(context.Background(), signed, mailgunKey, tokens, now); err != nil || len(evs) != 1 {
		t.Fatalf("valid: %d events, err %v", len(evs), err)
	}
	tests := []struct {
		name   string
		body   []byte
		key    string
		tokens TokenCache
	}{
		{"replayed token", signed, mailgunKey, tokens},
		{"bad signature", signMailgun(t, body, "another-key", now), mailgunKey, tokens},
		{"old timestamp", signMailgun(t, body, mailgunKey, now.Add(-6*time.Minute)), mailgunKey, tokens},
		{"future timestamp", signMailgun(t, body, mailgunKey, now.Add(6*time.Minute)), mailgunKey, tokens},
		{"placeholder signature", body, mailgunKey, tokens},
		{"no signature", []byte(`{"event-data":{"event":"failed","recipient":"a@b.c","severity":"permanent"}}`), mailgunKey, tokens},
		{"empty key", signMailgun(t, body, "", now), "", tokens},
		{"nil token cache", signMailgun(t, body, mailgunKey, now), mailgunKey, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := DecodeMailgun(context.Background(), tt.body, tt.key, tt.tokens, now)
			if !errors.Is(err, ErrUnauthorized) || evs != nil {
				t.Errorf("events %v, err %v; want ErrUnauthorized", evs, err)
			}
		})
	}
	// Within the window either side is fine.
	for _, d := range []time.Duration{-4 * time.Minute, 4 * time.Minute} {
		if _, err := DecodeMailgun(context.Background(), signMailgun(t, body, mailgunKey, now.Add(d)), mailgunKey, tokens, now); err != nil {
			t.Errorf("timestamp %v from now: %v", d, err)
		}
	}
	if _, err := DecodeMailgun(context.Background(), []byte(`{"signature":`), mailgunKey, tokens, now); !errors.Is(err, ErrMalformed) {
		t.Errorf("truncated JSON: err %v, want ErrMalformed", err)
	}
}

func TestMemoryTokenCacheExpiry(t *testing.T) {
	now := time.Unix(1741082400, 0)
	c := &MemoryTokenCache{TTL: 10 * time.Minute, Now: func() time.Time { return now }}
	seen := func(tok string) bool {
		s, _ := c.Seen(context.Background(), tok)
		return s
	}
	if seen("a") {
		t.Fatal("new token seen")
	}
	now = now.Add(9 * time.Minute)
	if !seen("a") {
		t.Fatal("token forgotten too early")
	}
	now = now.Add(2 * time.Minute)
	if seen("a") {
		t.Fatal("token remembered after its TTL")
	}
	for range 100 {
		now = now.Add(time.Minute)
		seen("b" + now.String())
	}
	if n := len(c.m); n > 20 {
		t.Errorf("%d tokens held; expired ones should be swept", n)
	}
}

func TestPostmarkAuth(t *testing.T) {
	body := readTestdata(t, "postmark/bounce-hard.json")
	if _, err := DecodePostmark(body, "parley", "s3cret", basicAuth("parley", "s3cret")); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodePostmark(body, "parley", "s3cret", "basic "+base64.StdEncoding.EncodeToString([]byte("parley:s3cret"))); err != nil {
		t.Errorf("lowercase scheme: %v", err)
	}
	for name, tc := range map[string]struct{ user, password, header string }{
		"no header":             {"parley", "s3cret", ""},
		"wrong password":        {"parley", "s3cret", basicAuth("parley", "s3cres")},
		"wrong user":            {"parley", "s3cret", basicAuth("parlez", "s3cret")},
		"password prefix":       {"parley", "s3cret", basicAuth("parley", "s3c")},
		"bearer":                {"parley", "s3cret", "Bearer s3cret"},
		"not base64":            {"parley", "s3cret", "Basic !!!"},
		"no colon":              {"parley", "s3cret", "Basic " + base64.StdEncoding.EncodeToString([]byte("parleys3cret"))},
		"unconfigured":          {"", "", basicAuth("", "")},
		"unconfigured password": {"parley", "", basicAuth("parley", "")},
	} {
		t.Run(name, func(t *testing.T) {
			evs, err := DecodePostmark(body, tc.user, tc.password, tc.header)
			if !errors.Is(err, ErrUnauthorized) || evs != nil {
				t.Errorf("events %v, err %v; want ErrUnauthorized", evs, err)
			}
		})
	}
	for _, bad := range []string{``, `nope`, `{"RecordType":`, `[1]`, `"Bounce"`, `{"RecordType":"Bounce","Email":7}`} {
		if _, err := DecodePostmark([]byte(bad), "u", "p", basicAuth("u", "p")); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v, want ErrMalformed", bad, err)
		}
	}
}

func TestSendGridAuth(t *testing.T) {
	key := sendGridKey()
	body := readTestdata(t, "sendgrid/events.json")
	const ts = "1741082400"
	sig := signSendGrid(t, key, ts, body)
	if _, err := DecodeSendGrid(body, &key.PublicKey, sig, ts); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, tc := range map[string]struct {
		body    []byte
		key     *ecdsa.PublicKey
		sig, ts string
	}{
		"different body":      {append([]byte(" "), body...), &key.PublicKey, sig, ts},
		"different timestamp": {body, &key.PublicKey, sig, "1741082401"},
		"other key":           {body, &other.PublicKey, sig, ts},
		"no signature":        {body, &key.PublicKey, "", ts},
		"not base64":          {body, &key.PublicKey, "!!" + sig, ts},
		"no timestamp":        {body, &key.PublicKey, signSendGrid(t, key, "", body), ""},
		"nil key":             {body, nil, sig, ts},
	} {
		t.Run(name, func(t *testing.T) {
			evs, err := DecodeSendGrid(tc.body, tc.key, tc.sig, tc.ts)
			if !errors.Is(err, ErrUnauthorized) || evs != nil {
				t.Errorf("events %v, err %v; want ErrUnauthorized", evs, err)
			}
		})
	}
	for _, bad := range []string{``, `{`, `[{"event":"bounce"},2]`, `"x"`, `[{"email":["a"]}]`} {
		b := []byte(bad)
		if _, err := DecodeSendGrid(b, &key.PublicKey, signSendGrid(t, key, ts, b), ts); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: err %v, want ErrMalformed", bad, err)
		}
	}
}

func TestParseSendGridPublicKey(t *testing.T) {
	key := sendGridKey()
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	b64 := base64.StdEncoding.EncodeToString(der)
	for name, s := range map[string]string{
		"base64": b64,
		"padded": "  " + b64 + "\n",
		"PEM":    string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
	} {
		k, err := ParseSendGridPublicKey(s)
		if err != nil || !k.Equal(&key.PublicKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(&p384.PublicKey)
	rsaDER, _ := x509.MarshalPKIXPublicKey(&testKeys().otherKey.PublicKey)
	for name, s := range map[string]string{
		"empty":      "",
		"not base64": "not base64!",
		"not a key":  base64.StdEncoding.EncodeToString([]byte("hello")),
		"P-384":      base64.StdEncoding.EncodeToString(p384DER),
		"RSA":        base64.StdEncoding.EncodeToString(rsaDER),
		"truncated":  b64[:len(b64)/2],
	} {
		if _, err := ParseSendGridPublicKey(s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
