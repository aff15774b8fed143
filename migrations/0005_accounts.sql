-- Accounts for the web UI: profiles as Connect's "Manage My Account",
-- terms of service, sign-in throttling, single sign-on identities and
-- profile pictures.

ALTER TABLE users
    ADD COLUMN website           text NOT NULL DEFAULT '' CHECK (length(website) <= 500),
    ADD COLUMN social_links      text[] NOT NULL DEFAULT '{}' CHECK (cardinality(social_links) <= 8),
    ADD COLUMN show_groups       boolean NOT NULL DEFAULT true,
    ADD COLUMN terms_accepted_at timestamptz,
    -- Changes whenever the password does: reset links carry it, so a link
    -- works once and stops working after any password change.
    ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

-- "Moderate all groups" joins the site-wide permissions.
ALTER TABLE users DROP CONSTRAINT users_permissions_check;
ALTER TABLE users ADD CONSTRAINT users_permissions_check CHECK (permissions <@ ARRAY[
    'create_groups', 'manage_users', 'add_resources', 'view_reports', 'manage_categories', 'moderate_groups']::text[]);

-- Sessions: the id is rotated at login and privilege change (a new row),
-- and ends at the idle or the absolute deadline, whichever comes first.
ALTER TABLE sessions ADD COLUMN idle_expires_at timestamptz NOT NULL DEFAULT now() + interval '14 days';
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN remote_ip text NOT NULL DEFAULT '';

-- Failed sign-ins, counted over a sliding window per account and per
-- client address. A table (not memory) so that every daemon on the
-- database sees the same count and a restart does not reset it.
CREATE TABLE login_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key       text NOT NULL, -- "email:<lowercased address>" or "ip:<address>"
    failed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, failed_at);

-- Accounts linked to an OpenID Connect provider.
CREATE TABLE user_identities (
    issuer     text NOT NULL,
    subject    text NOT NULL,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

-- Pictures (members', and later groups'), re-encoded on upload; small
-- enough to live in the database with everything else it must back up.
CREATE TABLE pictures (
    key          text PRIMARY KEY,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    data         bytea NOT NULL CHECK (octet_length(data) <= 1048576),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The CSRF token is derived from the session and a per-browser cookie
-- (web/session), so the stored one goes; "rotate" asks the next request
-- to move the session to a new id, after a privilege change made by
-- someone else (an admin granting a permission).
ALTER TABLE sessions DROP COLUMN csrf_token;
ALTER TABLE sessions ADD COLUMN rotate boolean NOT NULL DEFAULT false;
