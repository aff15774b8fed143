package notice_test

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/parleymail/parley/mailflow/notice"
)

// samples has facts for every kind, with a name that needs escaping and
// links with query strings (their & must survive the HTML).
func samples() []notice.Facts {
	const link = "https://lists.example.org/p/verify-email?token=a.b-c&x=1"
	const group = "Seeds <& Soil>"
	return []notice.Facts{
		notice.Verify{Name: "Ann", Link: link, Why: notice.VerifySignup},
		notice.Verify{Name: "Ann", Link: link, Why: notice.VerifyResend},
		notice.Verify{Name: "Ann", Link: link, Why: notice.VerifyNewAddress},
		notice.PasswordReset{Name: "Ann", Link: link},
		notice.AddressChange{Name: "Ann", NewAddress: "new@example.org"},
		notice.SiteInvite{Inviter: "Olga", Link: link},
		notice.SiteInvite{Inviter: "Olga", Group: group, Link: link},
		notice.GroupInvite{Inviter: "Olga", Group: group, GroupAddress: "seeds@lists.example.org", Invitee: "ann@example.org", Link: link},
		notice.JoinDecision{Name: "Ann", Group: group, GroupAddress: "seeds@lists.example.org", GroupURL: "https://lists.example.org/g/seeds", Approved: true},
		notice.JoinDecision{Name: "Ann", Group: group},
		notice.Moderation{Group: group, From: "Ann <ann@example.org>", Subject: "Swap <b>", SenderAuth: "dmarc=fail",
			Body: "line one\n<script>x</script>", ApproveLink: link + "&d=approve", VetoLink: link + "&d=veto",
			ModerationURL: "https://lists.example.org/g/seeds/moderation"},
		notice.Veto{Group: group, Subject: "Swap", Reason: "off topic", Body: "my text"},
		notice.Veto{Group: group, Subject: "Swap", Body: "my text"},
		notice.DeliveryStopped{Email: "ann@example.org", Link: link, Complaint: true},
		notice.DeliveryStopped{Email: "ann@example.org", Link: link},
		notice.Help{Group: group, GroupAddress: "seeds@lists.example.org", JoinAddress: "seeds+subscribe@lists.example.org",
			LeaveAddress: "seeds+unsubscribe@lists.example.org", OwnerAddress: "seeds+owner@lists.example.org", GroupURL: "https://lists.example.org/g/seeds"},
		notice.OwnerForward{From: "ann@example.org", Group: group, Subject: "Hi", Text: "hello owners"},
		notice.ModeratorAnswer{Subject: "To moderate", Answer: "You are no longer a moderator."},
		notice.ModerationUnverified{Group: group, Summary: "dkim=none", ModerationURL: "https://lists.example.org/g/seeds/moderation"},
		notice.NotMember{Group: group, GroupAddress: "seeds@lists.example.org", JoinAddress: "seeds+subscribe@lists.example.org", GroupURL: "https://lists.example.org/g/seeds"},
		notice.InviteOnly{Group: group, OwnerAddress: "seeds+owner@lists.example.org"},
		notice.JoinConfirm{Group: group, Link: link, Request: true},
		notice.JoinConfirm{Group: group, Link: link},
		notice.LeaveConfirm{Group: group, Link: link},
		notice.DMARCRefused{Group: group, GroupAddress: "seeds@lists.example.org", Reason: "example.com says reject", GroupURL: "https://lists.example.org/g/seeds"},
		notice.NotPosted{Group: group, GroupAddress: "seeds@lists.example.org", Reason: "the message is empty"},
		notice.Held{Group: group, GroupAddress: "seeds@lists.example.org"},
		notice.ThreadMail{Group: group, Subject: "Swap <b>", Muted: true, ThreadURL: "https://lists.example.org/g/seeds/t/4", UndoLink: link},
		notice.ThreadMail{Group: group, Subject: "Swap", ThreadURL: "https://lists.example.org/g/seeds/t/4", UndoLink: link},
	}
}

var (
	textURL = regexp.MustCompile(`https?://[^\s<>"]+`)
	href    = regexp.MustCompile(`href="([^"]+)"`)
)

// TestEveryKindRenders: every kind of system mail renders with a subject,
// a text and an HTML part, nothing missing; the HTML part escapes what it
// is given, and its links are exactly those of the text part.
func TestEveryKindRenders(t *testing.T) {
	r, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[notice.Kind]bool{}
	for _, f := range samples() {
		seen[f.Kind()] = true
		subject, text, body, err := r.Render(f)
		if err != nil {
			t.Errorf("%s: %v", f.Kind(), err)
			continue
		}
		if subject == "" || strings.TrimSpace(text) == "" || strings.TrimSpace(body) == "" {
			t.Errorf("%s: an empty part: subject %q, text %q, html %q", f.Kind(), subject, text, body)
		}
		for _, part := range []string{subject, text, body} {
			if strings.Contains(part, "<no value>") || strings.Contains(part, "%!") {
				t.Errorf("%s: a fact is missing:\n%s", f.Kind(), part)
			}
		}
		if strings.Contains(subject, "\n") {
			t.Errorf("%s: the subject spans lines: %q", f.Kind(), subject)
		}
		if strings.Contains(body, "<script") || strings.Contains(body, "<& Soil>") {
			t.Errorf("%s: the HTML part does not escape its facts:\n%s", f.Kind(), body)
		}
		textLinks := textURL.FindAllString(text, -1)
		var htmlLinks []string
		for _, m := range href.FindAllStringSubmatch(body, -1) {
			htmlLinks = append(htmlLinks, html.UnescapeString(m[1]))
		}
		slices.Sort(textLinks)
		slices.Sort(htmlLinks)
		if !slices.Equal(slices.Compact(textLinks), slices.Compact(htmlLinks)) {
			t.Errorf("%s: links differ\ntext %q\nhtml %q", f.Kind(), textLinks, htmlLinks)
		}
	}
	for _, k := range []notice.Kind{notice.KindVerify, notice.KindPasswordReset, notice.KindAddressChange, notice.KindSiteInvite,
		notice.KindGroupInvite, notice.KindJoinDecision, notice.KindModeration, notice.KindVeto, notice.KindDeliveryStopped,
		notice.KindHelp, notice.KindOwnerForward, notice.KindModeratorAnswer, notice.KindModerationUnverified, notice.KindNotMember,
		notice.KindInviteOnly, notice.KindJoinConfirm, notice.KindLeaveConfirm, notice.KindDMARCRefused, notice.KindNotPosted, notice.KindHeld,
		notice.KindThreadMail} {
		if !seen[k] {
			t.Errorf("no sample of %s", k)
		}
	}
}

// TestTextReadsAsBefore: the text parts read word for word as the mail
// written in Go before the templates.
func TestTextReadsAsBefore(t *testing.T) {
	r, err := notice.NewRenderer("Parley")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f             notice.Facts
		subject, text string
	}{
		{notice.Verify{Name: "Ann", Link: "L", Why: notice.VerifySignup}, "Confirm your email address for Parley",
			"Welcome to Parley, Ann.\n\nTo finish creating your account, confirm that this is your address by opening this link (it works for 7 days):\n\nL\n\nIf you did not ask for this, ignore this email and nothing will change.\n"},
		{notice.Verify{Name: "Ann", Link: "L", Why: notice.VerifyNewAddress}, "Confirm your new email address for Parley",
			"Hello Ann,\n\nYou asked to move your Parley account to this address. Confirm it by opening this link (it works for 7 days):\n\nL\n\nIf you did not ask for this, ignore this email and nothing will change.\n"},
		{notice.Moderation{Group: "G", From: "F", Subject: "S", SenderAuth: "A", Body: "a\nb", ApproveLink: "AL", VetoLink: "VL", ModerationURL: "M"},
			"To moderate in G: S",
			"A message to G is waiting for a moderator.\n\nFrom: F\nSubject: S\nSender check: A\n\n| a\n| b\n\nApprove (it is sent to the group):\nAL\n\nVeto (the poster is told):\nVL\n\n" +
				"Each link asks you to confirm. Or reply to this email with the word approve, or veto and a reason.\nThe first moderator to decide wins. All held messages: M\n\n-- \nParley\n"},
		{notice.Veto{Group: "G", Subject: "S", Body: "B"}, "Not accepted: S",
			"Your message to G, \"S\", was not accepted by the group's moderators.\n\nThis is what you wrote:\n\nB\n\n-- \nParley\n"},
		{notice.Veto{Group: "G", Subject: "S", Reason: "R", Body: "B"}, "Not accepted: S",
			"Your message to G, \"S\", was not accepted by the group's moderators.\n\nTheir reason: R\n\nThis is what you wrote:\n\nB\n\n-- \nParley\n"},
		{notice.JoinDecision{Name: "N", Group: "G"}, "Your request to join G",
			"Hello N,\n\nThe owners of G did not accept your request to join the group.\n"},
		{notice.JoinDecision{Name: "N", Group: "G", GroupAddress: "A", GroupURL: "U", Approved: true}, "Welcome to G",
			"Hello N,\n\nYour request to join G is approved: you are a member now.\n\nWrite to the group at A, or read it at U\n"},
		{notice.DeliveryStopped{Email: "E", Link: "L"}, "We stopped sending you email",
			"Hello,\n\nMessages from Parley to E kept coming back undelivered, so we have paused email to this address. This usually means the mailbox was full or unreachable for a while.\n\nTo start receiving email again, open this link and press the button:\nL\n\n-- \nParley\n"},
		{notice.SiteInvite{Inviter: "O", Group: "G", Link: "L"}, "O invites you to the group G on Parley",
			"Hello,\n\nO invites you to the group G on Parley.\n\nAccept here (the link works for 30 days):\n\nL\n\nIf you do not want to join, ignore this email; nothing happens.\n"},
		{notice.JoinConfirm{Group: "G", Link: "L", Request: true}, "Confirm: ask to join G",
			"Someone, probably you, asked to ask to join the group \"G\" with this address.\n\nTo confirm, open this link and press the button:\nL\n\nIf it was not you, ignore this email: nothing changes.\n"},
	} {
		subject, text, _, err := r.Render(c.f)
		if err != nil {
			t.Fatal(err)
		}
		if subject != c.subject || text != c.text {
			t.Errorf("%s:\nsubject %q\nwant    %q\ntext %q\nwant %q", c.f.Kind(), subject, c.subject, text, c.text)
		}
	}
}
