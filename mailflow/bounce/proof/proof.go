package proof

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleymail/parley/mailflow/mailparse"
	"github.com/parleymail/parley/mailflow/sign"
)

// Source is where in a report a token was found.
type Source string

// The places a returned copy of Parley's mail carries a token.
const (
	SourceVERP           Source = "return-path"       // bounces+TOKEN@ (the copy's Return-Path, or a report field naming the envelope sender)
	SourceDeliveryHeader Source = "x-parley-delivery" // the copy's X-Parley-Delivery header
	SourceUnsubscribe    Source = "list-unsubscribe"  // the /u/TOKEN link of the copy's List-Unsubscribe header
)

// Token is one Parley token found in a report, checked.
type Token struct {
	Source Source `json:"source"`
	Text   string `json:"token"` // as found
	Valid  bool   `json:"valid"`
	// What a valid token names: one of them is set.
	DeliveryID int64 `json:"delivery_id,omitempty"` // a post to one member (VERP or header)
	DigestID   int64 `json:"digest_id,omitempty"`   // a digest to one member
	UserID     int64 `json:"user_id,omitempty"`     // a member (the unsubscribe link names the user)
}

// Names says in words what a valid token names.
func (t Token) Names() string {
	switch {
	case t.DeliveryID != 0:
		return "delivery " + strconv.FormatInt(t.DeliveryID, 10)
	case t.DigestID != 0:
		return "digest " + strconv.FormatInt(t.DigestID, 10)
	case t.UserID != 0:
		return "user " + strconv.FormatInt(t.UserID, 10)
	}
	return "nothing"
}

// Limits on what Find reads: a returned copy's header is small, and a
// report with more tokens than this is no report.
const (
	maxTokens    = 20
	maxScanBytes = 4 << 20
	maxPartBytes = 2 << 20
	maxParts     = 50
	maxTokenText = 200
)

var (
	// A VERP address anywhere in the body: base36 id, "-", 16 base32
	// characters (sign.Keys.VERPToken), any domain: the MAC is the proof.
	verpRE = regexp.MustCompile(`(?i)bounces\+([0-9a-z]{1,13}-[a-z2-7]{16})@`)
	// Header fields of the returned copy (sign.DeliveryHeaderField and
	// List-Unsubscribe), unfolded (RFC 5322 §2.2.3).
	// Some reports quote the returned header with "> " or indent it.
	deliveryRE  = regexp.MustCompile(`(?im)^[ \t>]*x-parley-delivery[ \t]*:[ \t]*([0-9a-z.-]{1,60})`)
	listUnsubRE = regexp.MustCompile(`(?im)^[ \t>]*list-unsubscribe[ \t]*:([^\n]*)`)
	// Parley's unsubscribe link: /u/ and a sign.Keys.Token token.
	unsubLinkRE = regexp.MustCompile(`/u/([A-Za-z0-9_-]{1,200}\.[A-Za-z0-9_-]{1,40})`)
	foldRE      = regexp.MustCompile(`\r?\n[ \t]+`)
)

// Find returns every Parley token in the body of raw (a report as
// received), checked with keys, at most maxTokens, each once. The
// report's own header is not read: a report proves itself only by what
// it returns of the original message, and by its envelope.
func Find(raw []byte, keys sign.Keys) []Token {
	var out []Token
	seen := map[string]bool{}
	add := func(t Token) {
		if len(out) >= maxTokens || seen[string(t.Source)+" "+strings.ToLower(t.Text)] {
			return
		}
		seen[string(t.Source)+" "+strings.ToLower(t.Text)] = true
		out = append(out, t)
	}
	for _, text := range bodies(raw) {
		text = foldRE.ReplaceAll(text, []byte(" "))
		for _, m := range verpRE.FindAllSubmatch(text, maxTokens) {
			tok := string(m[1])
			t := Token{Source: SourceVERP, Text: tok}
			if id, err := keys.VerifyVERP(tok); err == nil {
				t.Valid, t.DeliveryID = true, id
			}
			add(t)
		}
		for _, m := range deliveryRE.FindAllSubmatch(text, maxTokens) {
			tok := string(m[1])
			t := Token{Source: SourceDeliveryHeader, Text: tok}
			if s, err := keys.VerifyDeliveryHeader(tok); err == nil {
				t.Valid = true
				switch s.Kind {
				case sign.SentPost:
					t.DeliveryID = s.ID
				case sign.SentDigest:
					t.DigestID = s.ID
				}
			}
			add(t)
		}
		for _, m := range listUnsubRE.FindAllSubmatch(text, maxTokens) {
			for _, l := range unsubLinkRE.FindAllSubmatch(m[1], 4) {
				tok := string(l[1])
				t := Token{Source: SourceUnsubscribe, Text: tok}
				// Unsubscribe links never expire; the time does not matter.
				if ln, err := keys.Verify(tok, time.Time{}); err == nil && ln.Purpose == sign.PurposeUnsubscribe && ln.UserID > 0 {
					t.Valid, t.UserID = true, ln.UserID
				}
				add(t)
			}
		}
	}
	for i := range out {
		if len(out[i].Text) > maxTokenText {
			out[i].Text = out[i].Text[:maxTokenText]
		}
	}
	return out
}

// bodies returns the decoded texts of raw's body: its text and HTML,
// and every part (the delivery-status or feedback-report fields, the
// returned message or its header), at most maxScanBytes in all. A
// message the parser cannot read is scanned as it is, after its header.
func bodies(raw []byte) [][]byte {
	var out [][]byte
	total := 0
	keep := func(b []byte) {
		if total >= maxScanBytes || len(b) == 0 {
			return
		}
		b = b[:min(len(b), maxScanBytes-total)]
		total += len(b)
		out = append(out, b)
	}
	m, err := mailparse.Parse(raw, mailparse.Limits{MaxAttachmentBytes: maxPartBytes, MaxParts: maxParts})
	if err != nil {
		if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
			keep(raw[i:])
		} else if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
			keep(raw[i:])
		}
		return out
	}
	keep([]byte(m.Text))
	keep([]byte(m.HTML))
	for _, a := range m.Attachments {
		keep(a.Data)
	}
	return out
}

// Missing says why toks prove nothing, when none of them is valid: the
// reason an unverified report is recorded with.
func Missing(toks []Token) string {
	if len(toks) > 0 {
		return fmt.Sprintf("the returned message carries %d Parley-like token(s), none valid", len(toks))
	}
	return "it returns no Parley token (no VERP Return-Path, X-Parley-Delivery header or List-Unsubscribe link of ours)"
}
