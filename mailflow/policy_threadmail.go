package mailflow

import "strconv"

// Who is mailed a conversation's messages, and whose digest shows them:
// the member's group setting (Delivery) and their choice for the thread
// (ThreadPref) together. The fan-out's SQL applies MailedAtOnce through
// MailedAtOnceKeys and the digest applies InDigest, so the rule is here
// and nowhere else.

// ThreadPref is a member's choice for one conversation.
type ThreadPref string

// The choices. No choice leaves the group setting to decide.
const (
	ThreadDefault  ThreadPref = ""       // as the group setting says
	ThreadMuted    ThreadPref = "mute"   // no mail from it at all, nor in digests
	ThreadFollowed ThreadPref = "follow" // every new message by email at once
)

// Valid reports whether p is one of the choices (the default included).
func (p ThreadPref) Valid() bool {
	switch p {
	case ThreadDefault, ThreadMuted, ThreadFollowed:
		return true
	}
	return false
}

// MailedAtOnce reports whether a member whose group setting is d and
// whose choice for the thread is p gets the thread's new messages by
// email at once. A muted thread is never mailed. A followed one always
// is, whatever the group setting. Otherwise the group setting decides:
// every message for "immediate"; for a private thread (between a member
// and the owners, who are the only ones asked about), any setting but no
// email, since no digest ever carries a private thread.
func MailedAtOnce(d Delivery, p ThreadPref, private bool) bool {
	switch {
	case p == ThreadMuted:
		return false
	case p == ThreadFollowed:
		return true
	case private:
		return d != DeliveryNone
	}
	return d == DeliveryImmediate
}

// PrefForOwnPost is the choice that counts for the author of a message
// when their own message is mailed: following a thread brings others'
// messages, so a follower's own post reaches them only as their group
// setting says (every message, and their own-posts setting); a mute
// still holds.
func PrefForOwnPost(p ThreadPref) ThreadPref {
	if p == ThreadFollowed {
		return ThreadDefault
	}
	return p
}

// MailedAtOnceKeys lists, as "delivery|pref|private" (private "true" or
// "false"), every combination MailedAtOnce says yes to: the fan-out's
// SQL picks recipients by this list, so that it cannot drift from the
// rule.
func MailedAtOnceKeys() []string {
	var out []string
	for _, d := range []Delivery{DeliveryImmediate, DeliveryDigest, DeliveryWeekly, DeliveryNone} {
		for _, p := range []ThreadPref{ThreadDefault, ThreadMuted, ThreadFollowed} {
			for _, private := range []bool{false, true} {
				if MailedAtOnce(d, p, private) {
					out = append(out, string(d)+"|"+string(p)+"|"+strconv.FormatBool(private))
				}
			}
		}
	}
	return out
}

// InDigest reports whether a message of a thread the member chose p for
// goes into their digest: never from a muted thread, and never one that
// was already mailed to them at once (a followed thread's), so that
// nothing arrives twice. A followed thread's messages from before the
// member followed it were not mailed, and stay in the digest.
func InDigest(p ThreadPref, mailedAtOnce bool) bool {
	return p != ThreadMuted && !mailedAtOnce
}

// AutoFollows reports whether posting in a thread (starting it or
// replying) makes the author follow it: when their group setting is not
// every message (digest, weekly or none), unless they turned "follow
// conversations I start or reply to" off (followOwn). groups.io does the
// same by default.
func AutoFollows(followOwn bool, d Delivery) bool {
	return followOwn && d != DeliveryImmediate
}

// OffersFollow reports whether a member with group setting d is offered
// "Follow this conversation": only those who do not get every message
// already.
func OffersFollow(d Delivery) bool { return d != DeliveryImmediate }
