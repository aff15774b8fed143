// Package dnstest runs a real DNS server on loopback that answers TXT
// questions from a fixed zone, so that a `parleyd serve` under test
// (MAIL_AUTH_DNS_SERVER) checks senders against records the test
// publishes, with no network.
package dnstest

import (
	"errors"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Serve answers UDP DNS on 127.0.0.1 until the test ends and returns its
// address. TXT records come from txt (names without a trailing dot);
// every other question about a name in txt gets an empty answer, and any
// other name "no such domain" (RFC 1035 section 4.1.1, RCODE 3).
func Serve(t testing.TB, txt map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	zone := map[string][]string{}
	for k, v := range txt {
		zone[strings.ToLower(strings.TrimSuffix(k, "."))+"."] = v
	}
	t.Cleanup(func() { _ = pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			if out, ok := answer(buf[:n], zone); ok {
				_, _ = pc.WriteTo(out, addr)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func answer(query []byte, zone map[string][]string) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := strings.ToLower(q.Name.String())
	records, known := zone[name]
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(make([]byte, 0, 512), rh)
	b.EnableCompression()
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	if q.Type == dnsmessage.TypeTXT {
		for _, r := range records {
			// A TXT record is a list of strings of at most 255 bytes each
			// (RFC 1035 section 3.3.14); readers join them.
			var parts []string
			for len(r) > 255 {
				parts, r = append(parts, r[:255]), r[255:]
			}
			parts = append(parts, r)
			if err := b.TXTResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60},
				dnsmessage.TXTResource{TXT: parts}); err != nil {
				return nil, false
			}
		}
	}
	out, err := b.Finish()
	return out, err == nil
}
