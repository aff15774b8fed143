package outbound

import "testing"

// TestSubjectTag: group email's subject carries the group's tag in
// brackets: its name until the owners set one, theirs after, none when
// they empty it; a reply that already has the tag does not get it twice.
func TestSubjectTag(t *testing.T) {
	r := newTestRenderer(t, nil)
	tag := func(s string) *string { return &s }
	for _, c := range []struct {
		name    string
		tag     *string
		subject string
		want    string
	}{
		{"the group's name", nil, "Garden day", "[Gardeners] Garden day"},
		{"the owners' tag", tag("Veg"), "Garden day", "[Veg] Garden day"},
		{"no tag", tag(""), "Garden day", "Garden day"},
		{"already tagged", tag("Veg"), "Re: [Veg] Garden day", "Re: [Veg] Garden day"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := testPost()
			p.Group.SubjectTag = c.tag
			p.Message.Subject = c.subject
			m := parse(t, render(t, r, p, testRecipient()))
			if got, err := m.h.Subject(); err != nil || got != c.want {
				t.Errorf("Subject %q (%v), want %q", got, err, c.want)
			}
		})
	}
}
