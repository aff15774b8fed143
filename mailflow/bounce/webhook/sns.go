package webhook

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// SNSVerifier checks the signatures of Amazon SNS messages
// (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html)
// and caches the signing certificates it fetches. Its zero value refuses
// every message (no topic is allowed); set Topics. Use one verifier for the
// life of the process, through a pointer: it holds the certificate cache.
type SNSVerifier struct {
	// Topics lists the TopicArn values whose messages are accepted.
	Topics []string
	// AutoSubscribe makes DecodeSES return a Subscription for a verified
	// SubscriptionConfirmation, for the caller to confirm (GET its URL).
	// When false such messages are verified and ignored; confirm them in
	// the AWS console.
	AutoSubscribe bool
	// HTTPClient fetches certificates. Nil: a client with a 10-second
	// timeout. Redirects are never followed, whatever the client says.
	HTTPClient *http.Client
	// HostOK vets the host (as written in the URL, port included) of
	// SigningCertURL and SubscribeURL. Nil: the host must be
	// sns.<region>.amazonaws.com (or .amazonaws.com.cn), without a port or
	// with 443. Tests set it to accept their own server.
	HostOK func(host string) bool
	// Roots, when set, is the pool a signing certificate must chain to
	// (the rest of the PEM file gives intermediates). Nil: the HTTPS fetch
	// from an SNS host is the trust, as in AWS's own validators, and only
	// the certificate's validity period is checked.
	Roots *x509.CertPool

	mu      sync.Mutex
	certs   map[string]*certEntry // by SigningCertURL
	failed  map[string]failure    // SigningCertURLs whose fetch failed lately
	fetches *rate.Limiter         // new certificates fetched
}

// failure is a failed certificate fetch, remembered until it may be tried
// again, so that forged messages naming it cost no further fetch.
type failure struct {
	err   error
	until time.Time
}

type certEntry struct {
	leaf  *x509.Certificate
	chain *x509.CertPool
}

// Subscription is a verified SNS SubscriptionConfirmation: GET URL to
// confirm the subscription of this endpoint to TopicArn.
type Subscription struct {
	URL      string
	TopicArn string
}

const (
	certFetchTimeout = 10 * time.Second
	maxCertBytes     = 64 << 10
	maxCachedCerts   = 32
	// A URL that gave no certificate is not asked again for a while: long
	// when the server said no (a forgery's made-up URL), short when the
	// network failed (SNS retries a genuine message within a minute).
	refusedCertRetry = 15 * time.Minute
	failedCertRetry  = 10 * time.Second
	maxFailedCerts   = 256
	// AWS signs with one certificate per region and changes it rarely: a
	// few fetches, then one a minute, whatever forgers send.
	certFetchBurst = 8
	certFetchEvery = time.Minute
)

// snsCertPathRE is the path of SNS signing certificates
// (/SimpleNotificationService-<hex>.pem).
var snsCertPathRE = regexp.MustCompile(`^/SimpleNotificationService-[A-Za-z0-9]+\.pem$`)

// snsMessage is an SNS HTTP(S) message. Subject is a pointer because the
// string to sign includes it only when present.
type snsMessage struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// stringToSign builds the canonical string SNS signs: for each field in
// the documented order, its name, a newline, its value, a newline.
// Notification: Message, MessageId, Subject (only when present), Timestamp,
// TopicArn, Type. SubscriptionConfirmation and UnsubscribeConfirmation:
// Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
func (m *snsMessage) stringToSign() ([]byte, bool) {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	switch m.Type {
	case "Notification":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		add("SubscribeURL", m.SubscribeURL)
		add("Timestamp", m.Timestamp)
		add("Token", m.Token)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	default:
		return nil, false
	}
	return []byte(b.String()), true
}

// parseSNS reads an SNS message without checking it.
func parseSNS(body []byte) (*snsMessage, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, ErrMalformed
	}
	if _, ok := m.stringToSign(); !ok {
		return nil, ErrMalformed
	}
	return &m, nil
}

// verify checks an SNS message: its topic is allowed, its certificate URL
// is an SNS one, and its signature is the certificate's. Cheap checks come
// first, so that a stranger's post never makes us fetch anything.
func (v *SNSVerifier) verify(ctx context.Context, m *snsMessage) error {
	if v == nil || m.TopicArn == "" || !slices.Contains(v.Topics, m.TopicArn) {
		return fmt.Errorf("%w: topic %q is not allowed", ErrUnauthorized, m.TopicArn)
	}
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("%w: unknown SNS SignatureVersion %q", ErrUnauthorized, m.SignatureVersion)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	// An RSA signature is as long as the key: 1024 to 4096 bits.
	if err != nil || len(sig) < 128 || len(sig) > 512 {
		return fmt.Errorf("%w: bad SNS signature encoding", ErrUnauthorized)
	}
	if !v.urlOK(m.SigningCertURL, true) {
		return fmt.Errorf("%w: signing certificate URL %q is not an SNS one", ErrUnauthorized, m.SigningCertURL)
	}
	cert, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: signing certificate has no RSA key", ErrUnauthorized)
	}
	msg, _ := m.stringToSign()
	var digest []byte
	if hash == crypto.SHA1 {
		d := sha1.Sum(msg)
		digest = d[:]
	} else {
		d := sha256.Sum256(msg)
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
		return fmt.Errorf("%w: SNS signature does not verify", ErrUnauthorized)
	}
	return nil
}

// snsHostRE is the default rule for SNS hosts, as AWS's own validators
// have it.
var snsHostRE = regexp.MustCompile(`^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$`)

// snsHostOK is the default HostOK.
func snsHostOK(host string) bool {
	h, port, err := net.SplitHostPort(host)
	if err != nil {
		h, port = host, ""
	}
	return (port == "" || port == "443") && snsHostRE.MatchString(h)
}

// urlOK vets a certificate or subscription URL: https, an allowed host, no
// user information, and for certificates the path SNS uses
// (/SimpleNotificationService-<hex>.pem) with no query or fragment.
func (v *SNSVerifier) urlOK(raw string, cert bool) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	if cert && (!snsCertPathRE.MatchString(u.Path) || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery) {
		return false
	}
	ok := v.HostOK
	if ok == nil {
		ok = snsHostOK
	}
	return ok(u.Host)
}

// cert returns the signing certificate at rawURL, from the cache or the
// network. A certificate the server does not have (4xx), or that does not
// parse or verify, is ErrUnauthorized; a network failure, or a fetch over
// the rate limit, is ErrUnavailable, so that the caller answers 5xx and
// SNS retries. Failures are remembered for a while (see refusedCertRetry),
// so a URL that gave nothing is not fetched again at once.
func (v *SNSVerifier) cert(ctx context.Context, rawURL string) (*x509.Certificate, error) {
	now := time.Now()
	v.mu.Lock()
	e := v.certs[rawURL]
	f, failed := v.failed[rawURL]
	if failed && now.After(f.until) {
		delete(v.failed, rawURL)
		failed = false
	}
	if v.fetches == nil {
		v.fetches = rate.NewLimiter(rate.Every(certFetchEvery), certFetchBurst)
	}
	allowed := e != nil || failed || v.fetches.Allow()
	v.mu.Unlock()
	switch {
	case failed:
		return nil, f.err
	case !allowed:
		return nil, fmt.Errorf("%w: too many new SNS signing certificates; %s not fetched", ErrUnavailable, rawURL)
	}
	if e == nil {
		var err error
		if e, err = v.fetchCert(ctx, rawURL); err != nil {
			retry := refusedCertRetry
			if errors.Is(err, ErrUnavailable) {
				retry = failedCertRetry
			}
			v.mu.Lock()
			if v.failed == nil || len(v.failed) >= maxFailedCerts {
				v.failed = make(map[string]failure)
			}
			v.failed[rawURL] = failure{err: err, until: time.Now().Add(retry)}
			v.mu.Unlock()
			return nil, err
		}
		v.mu.Lock()
		if v.certs == nil || len(v.certs) >= maxCachedCerts {
			v.certs = make(map[string]*certEntry)
		}
		v.certs[rawURL] = e
		v.mu.Unlock()
	}
	now = time.Now()
	if v.Roots != nil {
		opts := x509.VerifyOptions{Roots: v.Roots, Intermediates: e.chain, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
		if _, err := e.leaf.Verify(opts); err != nil {
			return nil, fmt.Errorf("%w: signing certificate: %v", ErrUnauthorized, err)
		}
	} else if now.Before(e.leaf.NotBefore) || now.After(e.leaf.NotAfter) {
		return nil, fmt.Errorf("%w: signing certificate is not valid now", ErrUnauthorized)
	}
	return e.leaf, nil
}

func (v *SNSVerifier) fetchCert(ctx context.Context, rawURL string) (*certEntry, error) {
	client := &http.Client{Timeout: certFetchTimeout}
	if v.HTTPClient != nil {
		c := *v.HTTPClient
		client = &c
	}
	// A redirect could lead anywhere; the host check is only worth
	// something if the certificate comes from the host checked.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	ctx, cancel := context.WithTimeout(ctx, certFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: signing certificate URL: %v", ErrUnauthorized, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching SNS signing certificate: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		sentinel := ErrUnavailable
		if resp.StatusCode >= 300 && resp.StatusCode < 500 {
			sentinel = ErrUnauthorized
		}
		return nil, fmt.Errorf("%w: fetching SNS signing certificate %s: status %s", sentinel, rawURL, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: fetching SNS signing certificate: %v", ErrUnavailable, err)
	}
	if len(data) > maxCertBytes {
		return nil, fmt.Errorf("%w: signing certificate file is too large", ErrUnauthorized)
	}
	var e certEntry
	e.chain = x509.NewCertPool()
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: signing certificate: %v", ErrUnauthorized, err)
		}
		if e.leaf == nil {
			e.leaf = c
		} else {
			e.chain.AddCert(c)
		}
	}
	if e.leaf == nil {
		return nil, fmt.Errorf("%w: no certificate at %s", ErrUnauthorized, rawURL)
	}
	return &e, nil
}

// DecodeSES verifies an SNS message posted to an HTTPS subscription
// (raw message delivery off) and decodes the Amazon SES notification it
// carries. It fetches the signing certificate on first use (the only I/O
// in this package). It returns:
//
//   - for a Notification, the events of its SES notification (see
//     decodeSESMessage), with IDs of the form MessageId + "/" + recipient;
//   - for a SubscriptionConfirmation, a Subscription when v.AutoSubscribe
//     is set and the SubscribeURL is an SNS one (else nothing);
//   - for an UnsubscribeConfirmation, nothing.
//
// Errors: ErrMalformed for a body that is not an SNS message,
// ErrUnauthorized for a topic not in v.Topics, an unknown SignatureVersion,
// a certificate URL off SNS, or a bad signature; ErrUnavailable when the
// certificate could not be fetched (answer 5xx: SNS retries).
func DecodeSES(ctx context.Context, v *SNSVerifier, body []byte) (events []Event, confirm *Subscription, err error) {
	m, err := parseSNS(body)
	if err != nil {
		return nil, nil, err
	}
	if err := v.verify(ctx, m); err != nil {
		return nil, nil, err
	}
	switch m.Type {
	case "Notification":
		events, err := decodeSESMessage([]byte(m.Message), m.MessageID, parseTime(m.Timestamp))
		return events, nil, err
	case "SubscriptionConfirmation":
		if !v.AutoSubscribe {
			return nil, nil, nil
		}
		if !v.urlOK(m.SubscribeURL, false) {
			return nil, nil, fmt.Errorf("%w: SubscribeURL %q is not an SNS one", ErrUnauthorized, m.SubscribeURL)
		}
		return nil, &Subscription{URL: m.SubscribeURL, TopicArn: m.TopicArn}, nil
	}
	return nil, nil, nil
}

// decodeSESUnverified decodes an SNS message without checking it, or,
// when body is no SNS message, a bare SES notification (as SNS posts with
// raw message delivery, and as AWS's documentation shows them).
func decodeSESUnverified(body []byte) ([]Event, error) {
	var probe struct {
		Type string `json:"Type"`
	}
	if json.Unmarshal(body, &probe) == nil && probe.Type != "" {
		m, err := parseSNS(body)
		if err != nil {
			return nil, err
		}
		if m.Type != "Notification" {
			return nil, nil
		}
		return decodeSESMessage([]byte(m.Message), m.MessageID, parseTime(m.Timestamp))
	}
	return decodeSESMessage(body, "", time.Time{})
}

// sesProvider is Amazon SES, whose notifications come through SNS.
type sesProvider struct{}

func (sesProvider) Name() string  { return ProviderSES }
func (sesProvider) Title() string { return "Amazon SES through SNS" }
func (sesProvider) Auth() string {
	return "SNS message signature, certificate host and topic ARN"
}

func (sesProvider) Settings() []Setting {
	return []Setting{{Name: "SNS_TOPIC_ARNS"}, {Name: "SNS_AUTO_SUBSCRIBE", Default: "false"}}
}

func (sesProvider) Endpoint(get func(string) string, env Env) (Endpoint, error) {
	var topics []string
	for _, arn := range strings.Split(get("SNS_TOPIC_ARNS"), ",") {
		if arn = strings.TrimSpace(arn); arn != "" {
			if !strings.HasPrefix(arn, "arn:") {
				return nil, &SettingError{"SNS_TOPIC_ARNS", fmt.Sprintf("%q is not an ARN such as arn:aws:sns:us-east-1:123456789012:bounces", arn)}
			}
			topics = append(topics, arn)
		}
	}
	auto, err := settingBool("SNS_AUTO_SUBSCRIBE", get("SNS_AUTO_SUBSCRIBE"), false)
	if err != nil || len(topics) == 0 {
		return nil, err
	}
	client := env.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &sesEndpoint{verifier: &SNSVerifier{Topics: topics, AutoSubscribe: auto}, client: client, log: log}, nil
}

func (sesProvider) Unverified(body []byte) ([]Event, error) { return decodeSESUnverified(body) }

// sesEndpoint holds the one SNSVerifier (and its certificate cache) of
// the process.
type sesEndpoint struct {
	verifier *SNSVerifier
	client   *http.Client
	log      *slog.Logger
}

func (e *sesEndpoint) Receive(ctx context.Context, r Request) ([]Event, error) {
	events, sub, err := DecodeSES(ctx, e.verifier, r.Body)
	if err == nil && sub != nil {
		e.confirm(ctx, sub)
	}
	return events, err
}

// confirm GETs a verified SubscribeURL (its host was checked).
func (e *sesEndpoint) confirm(ctx context.Context, sub *Subscription) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, sub.URL, nil)
	if err != nil {
		return
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.log.Warn("confirming SNS subscription", "topic", sub.TopicArn, "err", err)
		return
	}
	_ = res.Body.Close()
	e.log.Info("SNS subscription confirmed", "topic", sub.TopicArn, "status", res.StatusCode)
}

// settingBool reads a true/false setting the way every other setting of
// the daemon is read.
func settingBool(name, v string, def bool) (bool, error) {
	switch strings.ToLower(v) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, &SettingError{name, fmt.Sprintf("must be true or false, not %q", v)}
}
