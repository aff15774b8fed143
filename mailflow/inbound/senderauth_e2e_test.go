package inbound_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/inbound"
)

// mail writes a plain message with CRLF line ends.
func mail(from, to, subject, msgID, body string, extra ...string) []byte {
	h := "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgID + ">\r\n" +
		"Date: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
	for _, e := range extra {
		h = e + "\r\n" + h // as an MTA prepends its trace fields
	}
	return []byte(h + "\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "\r\n")
}

// sign DKIM-signs raw with the rig's key for domain (published in its DNS).
func (r *rig) sign(domain string, raw []byte) []byte {
	r.t.Helper()
	var out bytes.Buffer
	if err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{Domain: domain, Selector: "sel", Signer: r.dkimKeys[domain]}); err != nil {
		r.t.Fatal(err)
	}
	return out.Bytes()
}

// sendExact delivers raw byte for byte over SMTP, or LMTP as an MTA in
// front of Parley would (a signed message must not be rewritten).
func (r *rig) sendExact(lmtp bool, from, to string, raw []byte) {
	r.t.Helper()
	conn, err := net.Dial("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	c := gosmtp.NewClient(conn)
	if lmtp {
		c = gosmtp.NewClientLMTP(conn)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		r.t.Fatal(err)
	}
	if err := c.Mail(from, nil); err != nil {
		r.t.Fatal(err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		r.t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := w.Write(raw); err != nil {
		r.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		r.t.Fatalf("DATA: %v", err)
	}
	_ = c.Quit()
}

func (r *rig) messageByMsgID(msgID string) mailflow.Message {
	r.t.Helper()
	var id int64
	if err := r.st.Pool().QueryRow(context.Background(), `SELECT id FROM messages WHERE message_id = $1`, msgID).Scan(&id); err != nil {
		r.t.Fatalf("message %s: %v", msgID, err)
	}
	m, err := r.st.MessageByID(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return m
}

// waitMail waits for a message Parley sent to `to` that contains want.
func (r *rig) waitMail(to, want string) string {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, e := range r.sink.Envelopes() {
			text := strings.ReplaceAll(string(e.Data), "=\r\n", "")
			if len(e.To) == 1 && e.To[0] == to && strings.Contains(text, want) {
				return text
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("no mail to %s containing %q", to, want)
	return ""
}

// moderatedGroup makes a moderated group with a moderator at mods.example
// (whose SPF does not list the loopback client) and a member.
func (r *rig) moderatedGroup(slug string) (mailflow.Group, mailflow.User, mailflow.User) {
	r.t.Helper()
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	mod := r.user("mod@mods.example", true)
	ann := r.user("ann@example.org", true)
	g := r.group(slug, owner, ann)
	if _, _, err := r.st.SetMembership(ctx, mailflow.Membership{GroupID: g.ID, UserID: mod.ID, Role: mailflow.RoleModerator, Status: mailflow.MemberActive}); err != nil {
		r.t.Fatal(err)
	}
	g.Moderated = true
	g, err := r.st.UpdateGroup(ctx, g)
	if err != nil {
		r.t.Fatal(err)
	}
	return g, mod, ann
}

// A moderator's DKIM-signed post goes straight to the group; the same
// From forged (no signature, SPF fail) is held, and the notice and the
// panel's list say why. A moderation answer from the forged address
// decides nothing; the signed one does.
func TestForgedModeratorIsHeld(t *testing.T) {
	r := newRig(t)
	g, mod, _ := r.moderatedGroup("herons")
	const to = "herons@lists.test"

	r.sendExact(false, "mod@mods.example", to, r.sign("mods.example", mail("Mod <mod@mods.example>", to, "Signed", "signed@mods.example", "From the moderator.")))
	if out := r.waitInbound(1); !strings.Contains(out[0], "posted") {
		t.Fatalf("the signed moderator's post: %q", out[0])
	}
	if m := r.messageByMsgID("signed@mods.example"); m.Status != mailflow.MessageApproved || m.SenderAuth != "sender verified by DKIM mods.example" {
		t.Fatalf("signed post: status %s, sender check %q", m.Status, m.SenderAuth)
	}

	r.sendExact(false, "mod@mods.example", to, mail("Mod <mod@mods.example>", to, "Forged", "forged@mods.example", "Buy now."))
	out := r.waitInbound(2)
	const why = "From not authenticated: SPF fail, no DKIM"
	if !strings.Contains(out[1], "held for moderation") || !strings.Contains(out[1], why) {
		t.Fatalf("the forged moderator's post: %q", out[1])
	}
	forged := r.messageByMsgID("forged@mods.example")
	if forged.Status != mailflow.MessageHeld {
		t.Fatalf("forged post is %s", forged.Status)
	}
	held, err := r.st.HeldMessages(context.Background(), g.ID, 10)
	if err != nil || len(held) != 1 || held[0].SenderAuth != why {
		t.Fatalf("the panel's held list: %+v %v", held, err)
	}
	notice := r.waitMail("owner@example.org", "To moderate in")
	if !strings.Contains(notice, "Sender check: "+why) {
		t.Errorf("the moderation notice does not say why:\n%s", notice)
	}

	// Answering the notice from the moderator's address, forged: nothing.
	reply := g.Slug + "+m-" + r.keys.ModerateToken(mod.ID, forged.ID) + "@" + domain
	r.sendExact(false, "mod@mods.example", reply, mail("mod@mods.example", reply, "Re: To moderate", "answer1@mods.example", "approve"))
	out = r.waitInbound(3)
	if !strings.Contains(out[2], "not authenticated") {
		t.Fatalf("a forged moderation answer: %q", out[2])
	}
	if m := r.messageByMsgID("forged@mods.example"); m.Status != mailflow.MessageHeld {
		t.Fatalf("a forged moderation answer decided: %s", m.Status)
	}
	// The moderator's own, signed, answer decides.
	r.sendExact(false, "mod@mods.example", reply, r.sign("mods.example", mail("mod@mods.example", reply, "Re: To moderate", "answer2@mods.example", "veto: spam")))
	out = r.waitInbound(4)
	if !strings.Contains(out[3], "vetoed by email") {
		t.Fatalf("the signed moderation answer: %q", out[3])
	}

	// Commands work whatever the authentication: a forged subscribe mails
	// a confirmation link to the From address, and nothing else happens.
	r.sendExact(false, "new@mods.example", "herons+subscribe@"+domain, mail("new@mods.example", "herons+subscribe@"+domain, "join", "join@mods.example", ""))
	if out = r.waitInbound(5); !strings.Contains(out[4], "confirmation sent") {
		t.Fatalf("subscribe: %q", out[4])
	}
}

// A post from a domain publishing DMARC p=reject that fails it is held by
// default, even in an unmoderated group; a group set to refuse such mail
// refuses it and tells the poster why.
func TestDMARCRejectDomain(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.user("owner@example.org", true)
	sam := r.user("sam@strict.example", true)
	g := r.group("terns", owner, sam)
	const to = "terns@lists.test"

	r.sendExact(false, "sam@strict.example", to, mail("sam@strict.example", to, "First", "first@strict.example", "Hello."))
	out := r.waitInbound(1)
	if !strings.Contains(out[0], "held for moderation") || !strings.Contains(out[0], "strict.example publishes DMARC p=reject") {
		t.Fatalf("held by default: %q", out[0])
	}

	g.DMARCFailure = mailflow.DMARCRefuse
	if _, err := r.st.UpdateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	r.sendExact(false, "sam@strict.example", to, mail("sam@strict.example", to, "Second", "second@strict.example", "Hello again."))
	if out = r.waitInbound(2); !strings.HasPrefix(out[1], to+": refused") {
		t.Fatalf("refused by the group's setting: %q", out[1])
	}
	if n := r.count(`SELECT count(*) FROM messages WHERE message_id = 'second@strict.example'`); n != 0 {
		t.Fatal("the refused post was stored")
	}
	r.waitMail("sam@strict.example", "publishes a DMARC policy")

	// Signed by its domain, the same poster's mail is posted.
	r.sendExact(false, "sam@strict.example", to, r.sign("strict.example", mail("sam@strict.example", to, "Third", "third@strict.example", "Signed.")))
	if out = r.waitInbound(3); !strings.Contains(out[2], "posted") {
		t.Fatalf("signed: %q", out[2])
	}
}

func (r *rig) count(q string) int {
	r.t.Helper()
	var n int
	if err := r.st.Pool().QueryRow(context.Background(), q).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// Behind an MTA (LMTP), Parley believes the Authentication-Results of the
// configured authserv-id, and ignores the same header from another.
func TestLMTPAuthenticationResults(t *testing.T) {
	r := newRig(t, func(c *inbound.Config) { c.LMTP = true })
	_, _, _ = r.moderatedGroup("egrets")
	const to = "egrets@lists.test"
	for i, tc := range []struct {
		authServID, want string
	}{
		{authServID, "posted"},
		{"mx.elsewhere.test", "held for moderation"},
	} {
		header := "Authentication-Results: " + tc.authServID + "; spf=pass (sender is authorised) smtp.mailfrom=mod@mods.example; dmarc=pass header.from=mods.example"
		id := fmt.Sprintf("lmtp%d@mods.example", i)
		r.sendExact(true, "mod@mods.example", to, mail("mod@mods.example", to, "Over LMTP", id, "Hello.", header))
		out := r.waitInbound(i + 1)
		if !strings.Contains(out[i], tc.want) {
			t.Errorf("Authentication-Results from %s: %q, want %s", tc.authServID, out[i], tc.want)
		}
	}
	if m := r.messageByMsgID("lmtp0@mods.example"); m.SenderAuth != "sender verified by SPF mods.example (reported by "+authServID+")" {
		t.Errorf("sender check: %q", m.SenderAuth)
	}
	if m := r.messageByMsgID("lmtp1@mods.example"); m.SenderAuth != "From not authenticated: SPF not checked, no DKIM" {
		t.Errorf("sender check with a stranger's header: %q", m.SenderAuth)
	}
}
