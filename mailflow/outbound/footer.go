package outbound

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The footers are the only part of a copy that differs per recipient, and
// executing their templates was most of the cost of a copy. So each
// Prepared executes them once per shape with placeholders where the
// recipient's values go, cuts the output at the placeholders, and joins
// the pieces with each recipient's values. The templates stay the one
// source of the footer's words and layout: a new per-recipient link is a
// Recipient field, a footerView field filled in by newFooterView, and the
// template; the placeholders find it without further code.
//
// The splice is exact only where the template would have printed the
// value unchanged, so it is used only when (1) every placeholder came out
// of the escapers verbatim, which makes the context of each slot leave
// spliceSafe characters as they are, (2) the recipient's values printed
// are made of those characters, and (3) the first recipient spliced with
// a plan also renders the slow way and matches byte for byte. A "+"
// (in the reply and private addresses every copy carries) is the one
// character escaped by context: kept in URLs and plain text, "&#43;" in
// HTML text and attributes. Each placeholder ends with one, and each slot
// remembers which way it came out. Anything else takes the slow way: the
// templates executed with the recipient's values.

// spliceSafe are the characters (besides letters and digits) that HTML
// text, quoted attributes and normalized URLs in html/template print as
// themselves; the URLs and addresses in footers are made of them. A "%"
// is safe too when two hex digits and something more follow it: the URL
// normalizer keeps such escapes as they are, but not one at the very end.
const spliceSafe = "-._~/:@?="

// placeholderTail ends every placeholder: each spliceSafe character, "/"
// before ":" so that html/template takes it for a relative URL, an
// escape as spliceable allows them, and a "+" (plusKept or plusEscaped
// after it, as the slot's context prints one).
const placeholderTail = "x" + spliceSafe + "%2Fx" + plusKept

const (
	plusKept    = "+x"
	plusEscaped = "&#43;x"
)

// renderFooters writes the text and HTML footers of s.view to s.text and
// s.html: spliced from the plan of their shape when it fits the values,
// else by executing the templates.
func (p *Prepared) renderFooters(s *scratch) error {
	r := p.r
	s.text.Reset()
	s.html.Reset()
	s.vals = slotValues(s.vals[:0], &s.view)
	if r.noSplice || len(s.vals) > maxSlots {
		return r.executeFooters(&s.text, &s.html, &s.view)
	}
	pl, err := p.plan(shapeOf(s.vals), &s.view, len(s.vals))
	if err != nil {
		return err
	}
	if pl.broken.Load() || !pl.fits(s.vals) {
		return r.executeFooters(&s.text, &s.html, &s.view)
	}
	s.text.Write(splice(s.text.AvailableBuffer(), pl.text, s.vals))
	s.html.Write(splice(s.html.AvailableBuffer(), pl.html, s.vals))
	if pl.verified.Load() {
		return nil
	}
	// The first recipient of a plan proves it against the templates.
	var text, html bytes.Buffer
	if err := r.executeFooters(&text, &html, &s.view); err != nil {
		return err
	}
	if bytes.Equal(text.Bytes(), s.text.Bytes()) && bytes.Equal(html.Bytes(), s.html.Bytes()) {
		pl.verified.Store(true)
		return nil
	}
	pl.broken.Store(true)
	s.text, s.html = text, html
	return nil
}

// executeFooters executes the footer templates with v.
func (r *Renderer) executeFooters(text, html *bytes.Buffer, v *footerView) error {
	if err := r.txtFtr.Execute(text, v); err != nil {
		return fmt.Errorf("outbound: executing text footer: %w", err)
	}
	if err := r.htmFtr.Execute(html, v); err != nil {
		return fmt.Errorf("outbound: executing html footer: %w", err)
	}
	return nil
}

// footerPlan is one shape of the footers cut into pieces. The shape
// depends on which per-recipient values are set, as the templates test
// them with "with" and "if".
type footerPlan struct {
	text, html []piece
	used       uint64      // the slots the pieces print
	verified   atomic.Bool // a recipient spliced and rendered the same
	broken     atomic.Bool // one did not: render this shape the slow way
}

// piece is literal footer text followed by a slot's value (slot < 0: none).
type piece struct {
	lit  []byte
	slot int
	// plusEsc: the slot's context prints "+" as "&#43;" (HTML text and
	// attributes); elsewhere (URLs, the text part) it stays.
	plusEsc bool
}

// footerSlots are the footerView's string fields that the messageView
// lacks: the recipient's values. They are found by reflection so that a
// new per-recipient field needs no entry here.
var footerSlots = sync.OnceValue(func() []int {
	mv := reflect.TypeFor[messageView]()
	fv := reflect.TypeFor[footerView]()
	var slots []int
	for i := range fv.NumField() {
		f := fv.Field(i)
		if _, shared := mv.FieldByName(f.Name); !shared && f.Type.Kind() == reflect.String {
			slots = append(slots, i)
		}
	}
	return slots
})

// maxSlots bounds the slots a plan may have: the recipient's fields and
// one per file link, each a bit of a uint64.
const maxSlots = 64

// slotValues appends the recipient's values in s.view to vals: the
// footerSlots fields, then each file link's URL.
func slotValues(vals []string, v *footerView) []string {
	rv := reflect.ValueOf(v).Elem()
	for _, i := range footerSlots() {
		vals = append(vals, rv.Field(i).String())
	}
	for _, f := range v.Files {
		vals = append(vals, f.URL)
	}
	return vals
}

// shapeOf is the set of slots with a value.
func shapeOf(vals []string) uint64 {
	var m uint64
	for i, v := range vals {
		if v != "" {
			m |= 1 << i
		}
	}
	return m
}

// spliceable reports whether v prints as itself wherever a verified
// placeholder did: spliceSafe characters, and not a URL that
// html/template's URL filter would replace (a scheme other than http,
// https and mailto).
func spliceable(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '%' && i+3 < len(v) && isHex(v[i+1]) && isHex(v[i+2]) {
			i += 2
			continue
		}
		if !isAlnum(c) && c != '+' && strings.IndexByte(spliceSafe, c) < 0 {
			return false
		}
	}
	scheme, _, ok := strings.Cut(v, ":")
	return !ok || strings.Contains(scheme, "/") || strings.EqualFold(scheme, "http") ||
		strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "mailto")
}

// footers holds a Prepared's plans, one per shape, made on first use.
type footers struct {
	mu    sync.Mutex
	plans map[uint64]*footerPlan
}

// plan returns the plan for shape, making it from the templates with v
// (whose per-recipient values are replaced by placeholders) if needed.
func (p *Prepared) plan(shape uint64, v *footerView, nvals int) (*footerPlan, error) {
	f := &p.footers
	f.mu.Lock()
	defer f.mu.Unlock()
	if pl, ok := f.plans[shape]; ok {
		return pl, nil
	}
	pl, err := p.r.makePlan(shape, v, nvals)
	if err != nil {
		return nil, err
	}
	if f.plans == nil {
		f.plans = map[uint64]*footerPlan{}
	}
	f.plans[shape] = pl
	return pl, nil
}

// makePlan executes the footers once with placeholders for the slots set
// in shape and cuts the output at them. A placeholder the escapers
// changed makes a plan that is broken from the start.
func (r *Renderer) makePlan(shape uint64, v *footerView, nvals int) (*footerPlan, error) {
	pv := *v
	pv.Files = append([]fileLink(nil), v.Files...)
	rv := reflect.ValueOf(&pv).Elem()
	slots := footerSlots()
	for n := range nvals {
		ph := ""
		if shape&(1<<n) != 0 {
			ph = r.placeholder(n)
		}
		if n < len(slots) {
			rv.Field(slots[n]).SetString(ph)
		} else {
			pv.Files[n-len(slots)].URL = ph
		}
	}
	var text, html bytes.Buffer
	if err := r.executeFooters(&text, &html, &pv); err != nil {
		return nil, err
	}
	pl := &footerPlan{}
	var ok1, ok2 bool
	pl.text, ok1 = r.cut(text.Bytes(), &pl.used)
	pl.html, ok2 = r.cut(html.Bytes(), &pl.used)
	if !ok1 || !ok2 || pl.used&^shape != 0 {
		pl.broken.Store(true)
	}
	return pl, nil
}

// placeholder is the stand-in for slot n: the Renderer's random prefix,
// the slot number, and placeholderTail.
func (r *Renderer) placeholder(n int) string {
	return r.slotPrefix + strconv.Itoa(n) + placeholderTail
}

// cut splits out at the placeholders and marks the slots found in used;
// ok is false when a placeholder did not come out whole.
func (r *Renderer) cut(out []byte, used *uint64) (pieces []piece, ok bool) {
	prefix := []byte(r.slotPrefix)
	for {
		i := bytes.Index(out, prefix)
		if i < 0 {
			return append(pieces, piece{lit: out, slot: -1}), true
		}
		rest := out[i+len(prefix):]
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(string(rest[:j]))
		base := placeholderTail[:len(placeholderTail)-len(plusKept)]
		if err != nil || n >= maxSlots || !bytes.HasPrefix(rest[j:], []byte(base)) {
			return nil, false
		}
		rest = rest[j+len(base):]
		pc := piece{lit: out[:i], slot: n}
		switch {
		case bytes.HasPrefix(rest, []byte(plusKept)):
			rest = rest[len(plusKept):]
		case bytes.HasPrefix(rest, []byte(plusEscaped)):
			rest, pc.plusEsc = rest[len(plusEscaped):], true
		default:
			return nil, false
		}
		pieces = append(pieces, pc)
		*used |= 1 << n
		out = rest
	}
}

// newSlotPrefix is random per Renderer, so that no group name or message
// text can pass for a placeholder.
func newSlotPrefix() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("outbound: footer placeholders: %w", err)
	}
	return "pq" + hex.EncodeToString(b[:]) + "n", nil
}

// splice appends the pieces with vals in their slots.
func splice(dst []byte, pieces []piece, vals []string) []byte {
	for _, pc := range pieces {
		dst = append(dst, pc.lit...)
		if pc.slot < 0 {
			continue
		}
		v := vals[pc.slot]
		for pc.plusEsc {
			i := strings.IndexByte(v, '+')
			if i < 0 {
				break
			}
			dst = append(append(dst, v[:i]...), "&#43;"...)
			v = v[i+1:]
		}
		dst = append(dst, v...)
	}
	return dst
}

// fits reports whether every value the plan prints can be spliced.
func (pl *footerPlan) fits(vals []string) bool {
	for n, v := range vals {
		if pl.used&(1<<n) != 0 && !spliceable(v) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
