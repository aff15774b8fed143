package senderauth

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"
)

// Resolver is the DNS a check may use: the method set SPF needs
// (blitiri.com.ar/go/spf's DNSResolver), of which DKIM and DMARC use
// LookupTXT. *net.Resolver is one.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// ServerResolver asks the DNS server at addr (host:port) instead of the
// system's, over UDP falling back to TCP as the Go resolver does.
func ServerResolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// cache keeps answers (and "no such name") for a while: a burst of mail
// from one domain costs one lookup per record. Temporary failures are
// not kept, so the next message asks again.
type cache struct {
	next Resolver
	ttl  time.Duration
	max  int

	mu      sync.Mutex
	entries map[string]cacheEntry
}

type cacheEntry struct {
	expires time.Time
	value   any
	err     error
}

func newCache(next Resolver, ttl time.Duration, max int) *cache {
	return &cache{next: next, ttl: ttl, max: max, entries: map[string]cacheEntry{}}
}

func lookup[T any](ctx context.Context, c *cache, key string, f func() (T, error)) (T, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		v, _ := e.value.(T)
		return v, e.err
	}
	v, err := f()
	if err == nil || isNotFound(err) {
		c.mu.Lock()
		if len(c.entries) >= c.max {
			clear(c.entries) // a crude bound: the cache refills from live mail
		}
		c.entries[key] = cacheEntry{expires: now.Add(c.ttl), value: v, err: err}
		c.mu.Unlock()
	}
	return v, err
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func (c *cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return lookup(ctx, c, "txt "+strings.ToLower(name), func() ([]string, error) { return c.next.LookupTXT(ctx, name) })
}

func (c *cache) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return lookup(ctx, c, "mx "+strings.ToLower(name), func() ([]*net.MX, error) { return c.next.LookupMX(ctx, name) })
}

func (c *cache) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return lookup(ctx, c, "ip "+strings.ToLower(host), func() ([]net.IPAddr, error) { return c.next.LookupIPAddr(ctx, host) })
}

func (c *cache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return lookup(ctx, c, "ptr "+addr, func() ([]string, error) { return c.next.LookupAddr(ctx, addr) })
}

// Zone is a fixed set of records answered without any network: for tests
// and for trying Parley on a machine with no DNS. Names are matched
// without case and without a trailing dot; a name not listed is "no
// such host".
type Zone struct {
	TXT map[string][]string
	IP  map[string][]net.IPAddr
	MX  map[string][]*net.MX
	PTR map[string][]string
}

func zoneGet[T any](m map[string][]T, name string) ([]T, error) {
	key := strings.ToLower(strings.TrimSuffix(name, "."))
	if v, ok := m[key]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (z Zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	return zoneGet(z.TXT, name)
}
func (z Zone) LookupMX(_ context.Context, name string) ([]*net.MX, error) { return zoneGet(z.MX, name) }
func (z Zone) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	return zoneGet(z.IP, host)
}
func (z Zone) LookupAddr(_ context.Context, addr string) ([]string, error) {
	return zoneGet(z.PTR, addr)
}
