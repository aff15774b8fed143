package store

// authorBanned is the SQL condition that a message m's author is banned:
// from its group (a membership banned by an owner), or from the site (an
// account banned by an administrator). Such messages are seen only by
// their author. Every message list uses this one definition.
const authorBanned = `(EXISTS (SELECT 1 FROM memberships b WHERE b.group_id = m.group_id AND b.user_id = m.author_id AND b.status = 'banned')
	OR EXISTS (SELECT 1 FROM users bu WHERE bu.id = m.author_id AND bu.status = 'banned'))`

// threadVisibleTo is the SQL condition that a thread t has at least one
// message the viewer sees (visibleSQL for the viewer id and moderator
// flag given as SQL expressions). The archive and the group page use it,
// so that a thread whose every message is hidden from a reader (held,
// flagged pending review, by a banned author) is not listed for them, as
// opening it would answer 404.
func threadVisibleTo(viewer, moderator string) string {
	return `EXISTS (SELECT 1 FROM messages m WHERE m.thread_id = t.id AND ` + visibleSQL(viewer, moderator) + `)`
}
