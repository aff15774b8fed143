package senderauth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // From names in any charset
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Config says how to check.
type Config struct {
	// Resolver answers every DNS question; nil means the system's.
	Resolver Resolver
	// Timeout bounds all the DNS of one message (0: 10 seconds). A check
	// that runs out of time counts as a temporary error: not
	// authenticated.
	Timeout time.Duration
	// AuthServID is the authserv-id (RFC 8601 section 2.5) of the MTA in
	// front of Parley whose Authentication-Results are believed; "" trusts
	// no such header.
	AuthServID string
	// TrustedRelays are the clients that relay mail to Parley's SMTP
	// listener (an MTA in front of it): their mail is judged by its
	// Authentication-Results, not by SPF of the relay's own address. LMTP
	// and IMAP mail always is.
	TrustedRelays []netip.Prefix
	// CacheTTL is how long a DNS answer is kept (0: 5 minutes).
	CacheTTL time.Duration
}

// Checker checks senders; it is safe for concurrent use.
type Checker struct {
	res        Resolver
	timeout    time.Duration
	authServID string
	relays     []netip.Prefix
}

// New returns a Checker with a DNS cache in front of cfg.Resolver.
func New(cfg Config) *Checker {
	var res Resolver = net.DefaultResolver
	if cfg.Resolver != nil {
		res = cfg.Resolver
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	return &Checker{res: newCache(res, cfg.CacheTTL, 10_000), timeout: cfg.Timeout,
		authServID: strings.ToLower(strings.TrimSpace(cfg.AuthServID)), relays: cfg.TrustedRelays}
}

// Input is a received message as stored.
type Input struct {
	Raw        []byte
	RemoteAddr string // the SMTP client, host:port ("" for IMAP)
	Helo       string // the name it gave in HELO/EHLO
	MailFrom   string // the envelope sender ("" for the null sender)
	Transport  string // smtp, lmtp, imap
}

// DKIMSignature is one signature's verdict.
type DKIMSignature struct {
	Domain string `json:"domain"` // d=
	Result string `json:"result"` // pass, fail, temperror, permerror
}

// Result is what a check found. Authenticated is the one fact policy
// reads; the rest explains it.
type Result struct {
	// Authenticated: the From domain is authenticated by a passing DKIM
	// signature or SPF result aligned with it (RFC 7489 section 3.1), or
	// the trusted MTA reported dmarc=pass for it.
	Authenticated bool            `json:"authenticated"`
	FromDomain    string          `json:"from_domain,omitempty"`
	By            string          `json:"by,omitempty"` // dkim, spf or dmarc, when authenticated
	ByDomain      string          `json:"by_domain,omitempty"`
	SPF           string          `json:"spf,omitempty"` // RFC 7208 section 2.6 result; "" when not known
	SPFDomain     string          `json:"spf_domain,omitempty"`
	DKIM          []DKIMSignature `json:"dkim,omitempty"`
	// DMARC is pass, fail, none (the domain publishes no policy) or
	// temperror (its policy could not be read).
	DMARC string `json:"dmarc"`
	// Policy is the From domain's published DMARC policy (p=, or sp= for a
	// subdomain): none, quarantine or reject; "" when there is none.
	Policy string `json:"policy,omitempty"`
	// Reporter is the authserv-id whose Authentication-Results were read
	// ("" when Parley checked everything itself).
	Reporter string `json:"reporter,omitempty"`
	// Summary says it in words for moderators.
	Summary string `json:"summary"`
}

// DMARCFailed reports whether the From fails DMARC for a domain that asks
// receivers to quarantine or reject such mail.
func (r Result) DMARCFailed() bool {
	return r.DMARC == "fail" && (r.Policy == string(dmarc.PolicyQuarantine) || r.Policy == string(dmarc.PolicyReject))
}

// Check judges one message. It never fails: what cannot be checked is
// not authenticated, and the Summary says why.
func (c *Checker) Check(ctx context.Context, in Input) Result {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var r Result
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(in.Raw)))
	if err != nil {
		r.DMARC = "none"
		r.Summary = "From not authenticated: the header cannot be read"
		return r
	}
	r.DKIM = c.verifyDKIM(ctx, in.Raw)

	ip := remoteIP(in.RemoteAddr)
	var reported *Reported
	if in.Transport != "smtp" || c.trustedRelay(ip) {
		// Behind an MTA the client address is the MTA's own: SPF must come
		// from the MTA's report (RFC 8601), never from our own check.
		if rep, ok := TrustedResults(h, c.authServID); ok {
			reported = &rep
			r.Reporter = rep.AuthServID
			r.SPF, r.SPFDomain = rep.SPF, rep.SPFDomain
			for _, d := range rep.DKIM {
				if !hasPass(r.DKIM, d.Domain) {
					r.DKIM = append(r.DKIM, d)
				}
			}
		}
	} else {
		r.SPF, r.SPFDomain = c.checkSPF(ctx, ip, in.Helo, in.MailFrom)
	}

	from, ferr := fromDomain(h)
	if ferr != nil {
		r.DMARC = "none"
		r.Summary = "From not authenticated: " + ferr.Error()
		return r
	}
	r.FromDomain = from
	rec, policy, perr := c.policy(ctx, from)
	adkim, aspf := dmarc.AlignmentMode(dmarc.AlignmentRelaxed), dmarc.AlignmentMode(dmarc.AlignmentRelaxed)
	if rec != nil {
		if rec.DKIMAlignment != "" {
			adkim = rec.DKIMAlignment
		}
		if rec.SPFAlignment != "" {
			aspf = rec.SPFAlignment
		}
	}
	for _, s := range r.DKIM {
		if s.Result == "pass" && aligned(s.Domain, from, adkim) {
			r.Authenticated, r.By, r.ByDomain = true, "dkim", strings.ToLower(s.Domain)
			break
		}
	}
	if !r.Authenticated && r.SPF == string(spf.Pass) && aligned(r.SPFDomain, from, aspf) {
		r.Authenticated, r.By, r.ByDomain = true, "spf", strings.ToLower(r.SPFDomain)
	}
	if !r.Authenticated && reported != nil && reported.DMARC == "pass" && strings.EqualFold(reported.DMARCFrom, from) {
		r.Authenticated, r.By, r.ByDomain = true, "dmarc", from
	}
	switch {
	case perr != nil:
		r.DMARC = "temperror"
	case rec == nil:
		r.DMARC = "none"
	case r.Authenticated:
		r.DMARC = "pass"
	default:
		r.DMARC = "fail"
	}
	r.Policy = policy
	r.Summary = summary(r)
	return r
}

func hasPass(sigs []DKIMSignature, domain string) bool {
	for _, s := range sigs {
		if s.Result == "pass" && strings.EqualFold(s.Domain, domain) {
			return true
		}
	}
	return false
}

func (c *Checker) trustedRelay(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	for _, p := range c.relays {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func remoteIP(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap()
}

// verifyDKIM checks every signature (at most 5: a message with many costs
// a lookup each) with our resolver (RFC 6376 section 6).
func (c *Checker) verifyDKIM(ctx context.Context, raw []byte) []DKIMSignature {
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT:        func(name string) ([]string, error) { return c.res.LookupTXT(ctx, name) },
		MaxVerifications: 5,
	})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		return nil
	}
	var out []DKIMSignature
	for _, v := range vs {
		s := DKIMSignature{Domain: strings.ToLower(v.Domain), Result: "pass"}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			s.Result = "temperror"
		case dkim.IsPermFail(v.Err):
			s.Result = "permerror"
		default:
			s.Result = "fail"
		}
		out = append(out, s)
	}
	return out
}

// checkSPF evaluates the envelope sender's domain, or the HELO name for
// the null sender (RFC 7208 section 2.4), for the client's address.
func (c *Checker) checkSPF(ctx context.Context, ip netip.Addr, helo, mailFrom string) (string, string) {
	domain := helo
	if _, d, ok := strings.Cut(mailFrom, "@"); ok && mailFrom != "" {
		domain = d
	}
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if !ip.IsValid() || domain == "" {
		return string(spf.None), domain
	}
	res, _ := spf.CheckHostWithSender(net.IP(ip.AsSlice()), helo, mailFrom, spf.WithContext(ctx), spf.WithResolver(c.res))
	return string(res), domain
}

// policy finds the From domain's DMARC record: at the domain itself, else
// at its organizational domain, where sp= applies (RFC 7489 section 6.6.3).
func (c *Checker) policy(ctx context.Context, from string) (*dmarc.Record, string, error) {
	opts := &dmarc.LookupOptions{LookupTXT: func(name string) ([]string, error) { return c.res.LookupTXT(ctx, name) }}
	rec, err := dmarc.LookupWithOptions(from, opts)
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org := orgDomain(from); org != from {
			rec, err = dmarc.LookupWithOptions(org, opts)
			if err == nil && rec.SubdomainPolicy != "" {
				return rec, string(rec.SubdomainPolicy), nil
			}
		}
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return nil, "", nil
	case err != nil && dmarc.IsTempFail(err):
		return nil, "", err
	case err != nil:
		return nil, "", nil // a malformed record is no policy (RFC 7489 section 6.6.3)
	}
	return rec, string(rec.Policy), nil
}

// aligned compares an authenticated domain with the From domain: equal
// (strict), or with the same organizational domain (relaxed); RFC 7489
// section 3.1.
func aligned(domain, from string, mode dmarc.AlignmentMode) bool {
	domain, from = strings.ToLower(strings.TrimSuffix(domain, ".")), strings.ToLower(from)
	if domain == "" {
		return false
	}
	if domain == from {
		return true
	}
	return mode != dmarc.AlignmentStrict && orgDomain(domain) == orgDomain(from)
}

// orgDomain is the registered domain under a public suffix.
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// fromDomain reads the one author domain DMARC judges: a From with no
// address or several is not authenticated (RFC 7489 section 6.6.1).
func fromDomain(h textproto.Header) (string, error) {
	fields := h.Values("From")
	if len(fields) != 1 {
		return "", fmt.Errorf("the message has %d From fields", len(fields))
	}
	mh := mail.Header{Header: message.Header{Header: h}}
	list, err := mh.AddressList("From")
	if err != nil || len(list) != 1 {
		return "", errors.New("the From field does not hold exactly one address")
	}
	_, d, ok := strings.Cut(list[0].Address, "@")
	if !ok || d == "" {
		return "", errors.New("the From address has no domain")
	}
	return strings.ToLower(strings.TrimSuffix(d, ".")), nil
}

// summary says in a line what moderators need: who vouches for the
// sender, or what failed.
func summary(r Result) string {
	reporter := ""
	if r.Reporter != "" {
		reporter = " (reported by " + r.Reporter + ")"
	}
	if r.Authenticated {
		return fmt.Sprintf("sender verified by %s %s%s", strings.ToUpper(r.By), r.ByDomain, reporter)
	}
	var parts []string
	switch {
	case r.SPF == "":
		parts = append(parts, "SPF not checked")
	case r.SPF == string(spf.Pass):
		parts = append(parts, "SPF pass for "+r.SPFDomain+" (not the From domain)")
	default:
		parts = append(parts, "SPF "+r.SPF)
	}
	if len(r.DKIM) == 0 {
		parts = append(parts, "no DKIM")
	}
	for _, s := range r.DKIM {
		if s.Result == "pass" {
			parts = append(parts, "DKIM pass for "+s.Domain+" (not the From domain)")
		} else {
			parts = append(parts, "DKIM "+s.Result+" ("+s.Domain+")")
		}
	}
	out := "From not authenticated: " + strings.Join(parts, ", ")
	if r.Policy == string(dmarc.PolicyQuarantine) || r.Policy == string(dmarc.PolicyReject) {
		out += "; " + r.FromDomain + " publishes DMARC p=" + r.Policy
	}
	return out + reporter
}
