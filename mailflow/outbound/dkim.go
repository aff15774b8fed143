package outbound

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/emersion/go-msgauth/dkim"
)

// signedHeaders are the fields a DKIM signature covers. The list fields
// are included so that a forwarder cannot swap the unsubscribe link, which
// RFC 8058 §4 requires for one-click unsubscription. Fields that a message
// lacks (In-Reply-To on a new thread) are still listed: RFC 6376 §5.4 lets
// a signer name absent fields, so that adding them later breaks the
// signature.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References",
	"Reply-To", "Sender", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
	"List-Post", "MIME-Version", "Content-Type",
}

// DKIM signs outgoing messages for one domain (RFC 6376) with relaxed
// header and body canonicalization. It is safe for concurrent use.
type DKIM struct {
	domain   string
	selector string
	key      crypto.Signer
}

// LoadDKIM reads a PEM private key, PKCS#1 RSA ("RSA PRIVATE KEY") or
// PKCS#8 RSA or Ed25519 ("PRIVATE KEY"), for signing as domain with
// selector: its public key is published at selector._domainkey.domain.
func LoadDKIM(domain, selector, keyFile string) (*DKIM, error) {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("reading dkim key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("reading dkim key %s: no PEM block", keyFile)
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("reading dkim key %s: unsupported PEM type %q", keyFile, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing dkim key %s: %w", keyFile, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("parsing dkim key %s: unsupported key type %T", keyFile, key)
	}
	return NewDKIM(domain, selector, signer)
}

// NewDKIM returns a signer for domain and selector with an RSA (at least
// 1024 bits, RFC 8301 §3.2) or Ed25519 (RFC 8463) private key.
func NewDKIM(domain, selector string, key crypto.Signer) (*DKIM, error) {
	if !validDomain(domain) {
		return nil, fmt.Errorf("dkim: invalid domain %q", domain)
	}
	if !validDomain(selector) {
		return nil, fmt.Errorf("dkim: invalid selector %q", selector)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 1024 {
			return nil, errors.New("dkim: RSA key shorter than 1024 bits")
		}
	case ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("dkim: unsupported key type %T", key)
	}
	return &DKIM{domain: domain, selector: selector, key: key}, nil
}

// RecordName is the DNS name of the key record: selector._domainkey.domain.
func (d *DKIM) RecordName() string { return d.selector + "._domainkey." + d.domain }

// TXTRecord is the DNS TXT record that publishes the public key (RFC 6376
// §3.6.1; RFC 8463 §4.2 for Ed25519, whose p= is the raw 32-byte key).
func (d *DKIM) TXTRecord() string {
	switch pub := d.key.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil { // cannot happen for a valid RSA key
			return ""
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	return ""
}

// Sign signs a whole message (system mail, digests) and returns it with
// its DKIM-Signature field first. A nil DKIM (none configured) returns
// the message as it is.
func (d *DKIM) Sign(msg []byte) ([]byte, error) {
	if d == nil {
		return msg, nil
	}
	return d.sign(msg, 0)
}

// sign signs the message msg[start:] and inserts its DKIM-Signature field
// before it.
func (d *DKIM) sign(msg []byte, start int) ([]byte, error) {
	s, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 d.domain,
		Selector:               d.selector,
		Signer:                 d.key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	})
	if err != nil {
		return msg, fmt.Errorf("dkim: %w", err)
	}
	_, werr := s.Write(msg[start:])
	if err := s.Close(); err != nil {
		return msg, fmt.Errorf("dkim signing: %w", err)
	}
	if werr != nil {
		return msg, fmt.Errorf("dkim signing: %w", werr)
	}
	return slices.Insert(msg, start, []byte(s.Signature())...), nil
}
