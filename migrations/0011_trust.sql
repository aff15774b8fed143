-- Trust: a group may hold a new member's first N posts for a moderator
-- (0: off), as Mailman's and Discourse's first-post moderation do.
ALTER TABLE groups ADD COLUMN trust_posts integer NOT NULL DEFAULT 0 CHECK (trust_posts BETWEEN 0 AND 100);
