package sign

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestLinkRoundTripAndTampering(t *testing.T) {
	k := Keys{Current: strings.Repeat("a", 32)}
	now := time.Now()
	l := Link{Purpose: PurposeUnsubscribe, UserID: 42, GroupID: 7}
	tok := k.Token(l)
	got, err := k.Verify(tok, now)
	if err != nil || got.UserID != 42 || got.GroupID != 7 || got.Purpose != PurposeUnsubscribe {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	other := k.Token(Link{Purpose: PurposeUnsubscribe, UserID: 43, GroupID: 7})
	p1, _, _ := strings.Cut(other, ".")
	_, s0, _ := strings.Cut(tok, ".")
	bad := []string{
		"", "garbage", tok[:len(tok)-3], tok + "x", p1 + "." + s0, // another user's payload with this MAC
		Keys{Current: strings.Repeat("b", 32)}.Token(l), // a foreign key
		strings.ToUpper(tok),
	}
	for _, b := range bad {
		if _, err := k.Verify(b, now); err != ErrBadToken {
			t.Errorf("Verify(%q) = %v, want ErrBadToken", b, err)
		}
	}
}

func TestLinkExpiry(t *testing.T) {
	k := Keys{Current: strings.Repeat("a", 32)}
	now := time.Now()
	tok := k.Token(Link{Purpose: PurposeUndo, UserID: 1, GroupID: 2, Value: "digest", Expires: now.Add(time.Hour)})
	if l, err := k.Verify(tok, now); err != nil || l.Value != "digest" {
		t.Fatalf("fresh undo link: %+v %v", l, err)
	}
	if _, err := k.Verify(tok, now.Add(2*time.Hour)); err != ErrBadToken {
		t.Fatalf("expired undo link: %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	old := Keys{Current: strings.Repeat("o", 32)}
	tok := old.Token(Link{Purpose: PurposeUnsubscribe, UserID: 5})
	verp := old.VERPToken(99)
	rotated := Keys{Current: strings.Repeat("n", 32), Previous: old.Current}
	if _, err := rotated.Verify(tok, time.Now()); err != nil {
		t.Fatalf("a link signed with the previous key must still verify: %v", err)
	}
	if id, err := rotated.VerifyVERP(verp); err != nil || id != 99 {
		t.Fatalf("VERP with the previous key: %d %v", id, err)
	}
	dropped := Keys{Current: strings.Repeat("n", 32)}
	if _, err := dropped.Verify(tok, time.Now()); err != ErrBadToken {
		t.Fatal("a link from a retired key must fail once the previous key is gone")
	}
}

func TestVERP(t *testing.T) {
	k := Keys{Current: strings.Repeat("a", 32)}
	tok := k.VERPToken(123456789)
	if strings.ToLower(tok) != tok || strings.ContainsAny(tok, "+@=/") {
		t.Fatalf("VERP token must be a lowercase local-part piece: %q", tok)
	}
	if id, err := k.VerifyVERP(strings.ToUpper(tok)); err != nil || id != 123456789 {
		t.Fatalf("VERP survives case changes: %d %v", id, err)
	}
	for _, b := range []string{"", "1-aaaa", tok[:len(tok)-1], k.VERPToken(5)[:2] + tok[2:]} {
		if _, err := k.VerifyVERP(b); err != ErrBadToken {
			t.Errorf("VerifyVERP(%q) = %v", b, err)
		}
	}
}

func TestAPITokenHash(t *testing.T) {
	tok, err := NewAPIToken()
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) {
		t.Fatal(tok, err)
	}
	a, b := TokenHash("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", tok), TokenHash("k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2", tok)
	if string(a) == string(b) {
		t.Fatal("the token hash must depend on SECRET_KEY")
	}
}

func TestReplyTokensAreNotVERPTokens(t *testing.T) {
	k := Keys{Current: strings.Repeat("a", 32)}
	r := k.ReplyToken(77)
	if id, err := k.VerifyReply(r); err != nil || id != 77 {
		t.Fatalf("reply token: %d %v", id, err)
	}
	if _, err := k.VerifyVERP(r); err != ErrBadToken {
		t.Fatal("a reply token must not pass as a VERP token")
	}
}

func TestModerateToken(t *testing.T) {
	k := Keys{Current: "current-key", Previous: "old-key"}
	tok := k.ModerateToken(42, 123456789)
	mod, msg, err := k.VerifyModerate(strings.ToUpper(tok))
	if err != nil || mod != 42 || msg != 123456789 {
		t.Fatalf("round trip: %d %d %v", mod, msg, err)
	}
	if tok != strings.ToLower(tok) {
		t.Errorf("token %q is not lowercase", tok)
	}
	// Another message id with the same MAC fails.
	forged := strings.Replace(tok, ".", ".1", 1)
	if _, _, err := k.VerifyModerate(forged); err == nil {
		t.Error("a forged token verified")
	}
	if _, _, err := (Keys{Current: "other"}).VerifyModerate(tok); err == nil {
		t.Error("a token verified under another key")
	}
	// After rotation the previous key still verifies notices already sent.
	if _, _, err := (Keys{Current: "new-key", Previous: "current-key"}).VerifyModerate(tok); err != nil {
		t.Errorf("after key rotation: %v", err)
	}
}

func TestDeliveryHeader(t *testing.T) {
	k := Keys{Current: strings.Repeat("a", 32), Previous: strings.Repeat("p", 32)}
	for _, s := range []Sent{{SentPost, 1}, {SentDigest, 987654321}} {
		v := k.DeliveryHeader(s)
		if got, err := k.VerifyDeliveryHeader(strings.ToUpper(v)); err != nil || got != s {
			t.Fatalf("round trip of %+v: %+v %v", s, got, err)
		}
	}
	post := k.DeliveryHeader(Sent{SentPost, 42})
	bad := []string{"", "p.", "x" + post[1:], "d" + post[1:], // a post's token is not a digest's
		"p." + k.VERPToken(42), // nor is a VERP token a header token
		Keys{Current: strings.Repeat("b", 32)}.DeliveryHeader(Sent{SentPost, 42}), post[:len(post)-1]}
	for _, b := range bad {
		if _, err := k.VerifyDeliveryHeader(b); err != ErrBadToken {
			t.Errorf("VerifyDeliveryHeader(%q) = %v, want ErrBadToken", b, err)
		}
	}
	if _, err := (Keys{Current: strings.Repeat("n", 32), Previous: strings.Repeat("a", 32)}).VerifyDeliveryHeader(post); err != nil {
		t.Errorf("after a key rotation: %v", err)
	}
}

// TestSignedValuesUnchanged pins what each signer writes: links and
// addresses in mail already sent must keep verifying, and a change of
// encoding would also change every copy's bytes.
func TestSignedValuesUnchanged(t *testing.T) {
	k := Keys{Current: strings.Repeat("k", 32)}
	for got, want := range map[string]string{
		k.Token(Link{Purpose: PurposeUnsubscribe, UserID: 42, GroupID: 7}):                                             "dW5zdWJ8NDJ8N3x8MA.ycH4BEcQMs1TAq3B8ewSXQ",
		k.Token(Link{Purpose: PurposeJoin, GroupID: 9, Value: "zoë+x@example.org", Expires: time.Unix(1767225600, 0)}): "am9pbnwwfDl8em_Dqyt4QGV4YW1wbGUub3JnfDE3NjcyMjU2MDA.a3QF-a_WjSg-zKq4RAprWQ",
		k.VERPToken(123456789): "21i3v9-uw7xjpkfpz7zx7ga",
		k.ReplyToken(77):       "25-ymouxzdyn4ajlgbq",
		k.DeliveryHeader(Sent{Kind: SentPost, ID: 5000001}): "p.2z60x-7tyogqoh2a2zqfqp",
		k.DeliveryHeader(Sent{Kind: SentDigest, ID: 12}):    "d.c-s7osebmqujzh37b6",
		k.ModerateToken(3, 99):                              "3.2r-x5odkqzqrh6qcics",
		fmt.Sprintf("%x", TokenHash("secret", " prl_abc ")): "7c7c3ef496e3533363c5cc3c4cc0bfc195a670f5a76381a71b6d7fa0f148210f",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if raceBuild {
		return
	}
	if allocs := testing.AllocsPerRun(100, func() { k.Token(Link{Purpose: PurposeUnsubscribe, UserID: 42, GroupID: 7}) }); allocs > 1 {
		t.Errorf("signing a link allocates %.0f times, want 1 (its string)", allocs)
	}
}

// TestManyKeys: keys beyond the cached few still sign and verify.
func TestManyKeys(t *testing.T) {
	for i := range 3 * maxKeys {
		k := Keys{Current: fmt.Sprintf("key-%d-%s", i, strings.Repeat("x", 24))}
		tok := k.Token(Link{Purpose: PurposeSettings, UserID: int64(i)})
		if l, err := k.Verify(tok, time.Now()); err != nil || l.UserID != int64(i) {
			t.Fatalf("key %d: %+v %v", i, l, err)
		}
	}
}

func TestPrivateToken(t *testing.T) {
	k := Keys{Current: "current-key-current-key-current-key!", Previous: "previous-key-previous-key-previous!"}
	a := PrivateAddress{ToID: 12, ThreadID: 345, GivenTo: 6789}
	tok := k.PrivateToken(a)
	if tok != strings.ToLower(tok) || len(tok) > 40 {
		t.Fatalf("token %q: want short and lowercase, for address local parts", tok)
	}
	for _, v := range []string{tok, strings.ToUpper(tok)} {
		if got, err := k.VerifyPrivate(v); err != nil || got != a {
			t.Errorf("VerifyPrivate(%q) = %+v, %v; want %+v", v, got, err, a)
		}
	}
	old := Keys{Current: k.Previous}.PrivateToken(a)
	if got, err := k.VerifyPrivate(old); err != nil || got != a {
		t.Errorf("a token of the previous key: %+v, %v", got, err)
	}
	swapped := k.PrivateToken(PrivateAddress{ToID: 6789, ThreadID: 345, GivenTo: 12})
	for _, bad := range []string{"", tok[:len(tok)-1], strings.Replace(tok, "c.", "d.", 1),
		tok[:strings.IndexByte(tok, '-')] + swapped[strings.IndexByte(swapped, '-'):],
		k.ModerateToken(12, 345), "0.0.0" + tok[strings.IndexByte(tok, '-'):]} {
		if _, err := k.VerifyPrivate(bad); err == nil {
			t.Errorf("VerifyPrivate(%q) verified", bad)
		}
	}
}
