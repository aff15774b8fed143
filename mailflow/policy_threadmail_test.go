package mailflow

import (
	"slices"
	"testing"
)

func TestMailedAtOnce(t *testing.T) {
	for _, c := range []struct {
		d       Delivery
		p       ThreadPref
		private bool
		want    bool
	}{
		{DeliveryImmediate, ThreadDefault, false, true},
		{DeliveryImmediate, ThreadMuted, false, false},
		{DeliveryDigest, ThreadDefault, false, false},
		{DeliveryDigest, ThreadFollowed, false, true},
		{DeliveryWeekly, ThreadFollowed, false, true},
		{DeliveryNone, ThreadFollowed, false, true},
		{DeliveryNone, ThreadDefault, false, false},
		{DeliveryDigest, ThreadDefault, true, true},
		{DeliveryDigest, ThreadMuted, true, false},
		{DeliveryNone, ThreadDefault, true, false},
	} {
		if got := MailedAtOnce(c.d, c.p, c.private); got != c.want {
			t.Errorf("MailedAtOnce(%s, %q, %v) = %v, want %v", c.d, c.p, c.private, got, c.want)
		}
	}
	keys := MailedAtOnceKeys()
	if !slices.Contains(keys, "digest|follow|false") || slices.Contains(keys, "immediate|mute|false") ||
		!slices.Contains(keys, "immediate||false") {
		t.Errorf("MailedAtOnceKeys = %v", keys)
	}
}

func TestInDigestAndAutoFollow(t *testing.T) {
	if InDigest(ThreadMuted, false) || InDigest(ThreadFollowed, true) || !InDigest(ThreadFollowed, false) || !InDigest(ThreadDefault, false) {
		t.Error("InDigest disagrees with the rule")
	}
	if AutoFollows(true, DeliveryImmediate) || !AutoFollows(true, DeliveryDigest) || !AutoFollows(true, DeliveryNone) || AutoFollows(false, DeliveryDigest) {
		t.Error("AutoFollows disagrees with the rule")
	}
	if PrefForOwnPost(ThreadFollowed) != ThreadDefault || PrefForOwnPost(ThreadMuted) != ThreadMuted {
		t.Error("PrefForOwnPost disagrees with the rule")
	}
}
