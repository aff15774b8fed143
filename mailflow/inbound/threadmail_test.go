package inbound

import (
	"testing"

	"github.com/parleymail/parley/mailflow"
	"github.com/parleymail/parley/mailflow/mailparse"
)

func TestThreadCommand(t *testing.T) {
	for _, c := range []struct {
		text string
		want mailflow.ThreadPref
		ok   bool
	}{
		{"mute", mailflow.ThreadMuted, true},
		{"  FOLLOW.\n", mailflow.ThreadFollowed, true},
		{"Mute\n\n-- \nAnn, from the allotment\n\nOn Mon, Olga wrote:\n> Runner or French?\n", mailflow.ThreadMuted, true},
		{"Follow\n\nOn Mon, 1 Dec 2026 at 10:00, Olga <olga@example.org> wrote:\n> Runner or French?\n", mailflow.ThreadFollowed, true},
		{"mute this please", "", false},
		{"I would mute it", "", false},
	} {
		got, ok := threadCommand(&mailparse.Message{Text: c.text})
		if got != c.want || ok != c.ok {
			t.Errorf("threadCommand(%q) = %q, %v; want %q, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}
