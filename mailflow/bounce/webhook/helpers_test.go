package webhook

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"github.com/parleymail/parley/mailflow/mailtest"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

const testTopic = "arn:aws:sns:eu-west-1:111122223333:parley-ses"

func corpusDir(t testing.TB) string { return mailtest.CorpusDir(t) }

// testKeys are made once: RSA generation is slow.
var testKeys = sync.OnceValue(func() (k struct{ caKey, snsKey, otherKey *rsa.PrivateKey }) {
	for _, p := range []**rsa.PrivateKey{&k.caKey, &k.snsKey, &k.otherKey} {
		var err error
		if *p, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	}
	return k
})

// sendGridKey is the test SendGrid signing key.
var sendGridKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// snsFixture is a stand-in for SNS's certificate host: an HTTPS server
// with a test CA, a signing certificate it issued, and a stranger's
// self-signed certificate.
type snsFixture struct {
	srv      *httptest.Server
	host     string
	certURL  string
	fetches  atomic.Int32
	requests atomic.Int32 // to any path
	v        *SNSVerifier
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func newSNSFixture(t testing.TB) *snsFixture {
	t.Helper()
	keys := testKeys()
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Parley test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &keys.caKey.PublicKey, keys.caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &keys.snsKey.PublicKey, keys.caKey)
	if err != nil {
		t.Fatal(err)
	}
	otherTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
	}
	otherDER, err := x509.CreateCertificate(rand.Reader, otherTmpl, otherTmpl, &keys.otherKey.PublicKey, keys.otherKey)
	if err != nil {
		t.Fatal(err)
	}

	f := &snsFixture{}
	mux := http.NewServeMux()
	mux.HandleFunc("/SimpleNotificationService-test.pem", func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		w.Write(pemCert(leafDER))
	})
	mux.HandleFunc("/SimpleNotificationService-chain.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write(append(pemCert(leafDER), pemCert(caDER)...))
	})
	mux.HandleFunc("/SimpleNotificationService-stranger.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write(pemCert(otherDER))
	})
	mux.HandleFunc("/SimpleNotificationService-redirect.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/SimpleNotificationService-test.pem", http.StatusFound)
	})
	mux.HandleFunc("/SimpleNotificationService-garbage.pem", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("not a certificate"))
	})
	f.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	f.host = strings.TrimPrefix(f.srv.URL, "https://")
	f.certURL = f.srv.URL + "/SimpleNotificationService-test.pem"
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	f.v = &SNSVerifier{
		Topics:     []string{testTopic},
		HTTPClient: f.srv.Client(),
		HostOK:     func(h string) bool { return h == f.host },
		Roots:      roots,
	}
	return f
}

// testStringToSign is the SNS canonical string, written from AWS's
// documentation independently of the code under test.
func testStringToSign(m map[string]string) string {
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		b.WriteString(k + "\n" + v + "\n")
	}
	return b.String()
}

// signSNS fills in SignatureVersion (unless set), SigningCertURL (unless
// set) and Signature, signing with key, and returns the JSON body.
func signSNS(t testing.TB, key *rsa.PrivateKey, certURL string, m map[string]string) []byte {
	t.Helper()
	if m["SignatureVersion"] == "" {
		m["SignatureVersion"] = "1"
	}
	if m["SigningCertURL"] == "" {
		m["SigningCertURL"] = certURL
	}
	msg := []byte(testStringToSign(m))
	var sig []byte
	var err error
	if m["SignatureVersion"] == "2" {
		d := sha256.Sum256(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	} else {
		d := sha1.Sum(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, d[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// notification returns an SNS Notification carrying msg, signed by the
// fixture's certificate.
func (f *snsFixture) notification(t testing.TB, msg, version string) []byte {
	return signSNS(t, testKeys().snsKey, f.certURL, map[string]string{
		"Type":             "Notification",
		"MessageId":        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":         testTopic,
		"Subject":          "Amazon SES Email Event Notification",
		"Message":          msg,
		"Timestamp":        "2025-03-04T10:00:06.000Z",
		"SignatureVersion": version,
	})
}

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// signMailgun replaces the signature of a Mailgun body with a valid one
// for key, timestamp at and a fresh token.
func signMailgun(t testing.TB, body []byte, key string, at time.Time) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	tok := make([]byte, 25)
	rand.Read(tok)
	token := hex.EncodeToString(tok)
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + token))
	sig, _ := json.Marshal(map[string]string{"timestamp": ts, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))})
	m["signature"] = sig
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signSendGrid signs timestamp+body as SendGrid does.
func signSendGrid(t testing.TB, key *ecdsa.PrivateKey, timestamp string, body []byte) string {
	t.Helper()
	d := sha256.Sum256(append([]byte(timestamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// checkInvariants holds for every result of every decoder.
func checkInvariants(t testing.TB, evs []Event, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("error %v is neither ErrMalformed nor ErrUnauthorized", err)
		}
		if evs != nil {
			t.Fatalf("events %v returned with error %v", evs, err)
		}
	}
	for _, e := range evs {
		switch e.Kind {
		case KindHard, KindSoft, KindComplaint, KindDelivery, KindUnsubscribe, KindDelayed, KindOther:
		default:
			t.Fatalf("event kind %q", e.Kind)
		}
		if e.Email == "" || e.Email != strings.ToLower(e.Email) || !strings.Contains(e.Email, "@") {
			t.Fatalf("event email %q", e.Email)
		}
		if e.ID == "" || e.Provider == "" {
			t.Fatalf("event without id or provider: %+v", e)
		}
		if e.Scores && e.Kind != KindHard && e.Kind != KindSoft {
			t.Fatalf("a %s event scores", e.Kind)
		}
		if !utf8.ValidString(e.Diagnostic) || len(e.Diagnostic) > maxDiagnostic+len("…") {
			t.Fatalf("diagnostic of %d bytes, or not UTF-8", len(e.Diagnostic))
		}
		if e.Status != "" && enhancedStatus(e.Status) != e.Status {
			t.Fatalf("status %q", e.Status)
		}
	}
}
