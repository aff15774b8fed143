package store

// authorBanned is the SQL condition that a message m's author is banned:
// from its group (a membership banned by an owner), or from the site (an
// account banned by an administrator). Such messages are seen only by
// their author. Every message list uses this one definition.
const authorBanned = `(EXISTS (SELECT 1 FROM memberships b WHERE b.group_id = m.group_id AND b.user_id = m.author_id AND b.status = 'banned')
	OR EXISTS (SELECT 1 FROM users bu WHERE bu.id = m.author_id AND bu.status = 'banned'))`
