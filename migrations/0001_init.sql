-- The first schema: what the whole product grows on. Enum-like columns are
-- text with CHECK constraints (easy to extend in a later migration, and
-- readable in psql); every reference is a foreign key.

CREATE TABLE users (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email             text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email LIKE '_%@_%'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email_verified_at timestamptz,
    password_hash     text,
    timezone          text NOT NULL DEFAULT 'UTC' CHECK (timezone <> ''),
    default_delivery  text NOT NULL DEFAULT 'immediate' CHECK (default_delivery IN ('immediate', 'digest', 'none')),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'banned', 'deactivated')),
    is_superuser      boolean NOT NULL DEFAULT false,
    is_staff          boolean NOT NULL DEFAULT false,
    permissions       text[] NOT NULL DEFAULT '{}'
        CHECK (permissions <@ ARRAY['create_groups', 'manage_users', 'add_resources', 'view_reports', 'manage_categories']::text[]),
    -- Profile, as Connect's: shown on the member's page.
    title             text NOT NULL DEFAULT '',
    organization      text NOT NULL DEFAULT '',
    bio               text NOT NULL DEFAULT '',
    picture_key       text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    impersonator_id bigint REFERENCES users (id) ON DELETE CASCADE,
    data         jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- API tokens: only an HMAC of the token is stored.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    color      text NOT NULL DEFAULT '#5b6b7b' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
    id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                   text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'),
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description            text NOT NULL DEFAULT '',
    category_id            bigint REFERENCES categories (id) ON DELETE SET NULL,
    picture_key            text NOT NULL DEFAULT '',
    official               boolean NOT NULL DEFAULT false,
    join_policy            text NOT NULL DEFAULT 'open' CHECK (join_policy IN ('open', 'request', 'invite')),
    listed                 boolean NOT NULL DEFAULT true,
    moderated              boolean NOT NULL DEFAULT false,
    member_list_visibility text NOT NULL DEFAULT 'members' CHECK (member_list_visibility IN ('members', 'owners')),
    reply_to               text NOT NULL DEFAULT 'group' CHECK (reply_to IN ('group', 'sender')),
    location               text NOT NULL DEFAULT '',
    display_location       text NOT NULL DEFAULT '',
    created_by             bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Owners, moderators and members, and the whitelist (posts skip moderation).
CREATE TABLE memberships (
    group_id    bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'owner')),
    delivery    text NOT NULL DEFAULT 'immediate' CHECK (delivery IN ('immediate', 'digest', 'none')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'requested', 'invited', 'banned')),
    whitelisted boolean NOT NULL DEFAULT false,
    -- Send me my own posts: NULL follows the post's source (off for posts
    -- sent by email, which the sender already has; on for the web and API).
    echo_own_posts boolean,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

CREATE TABLE threads (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id        bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    subject         text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
    created_by      bigint REFERENCES users (id) ON DELETE SET NULL,
    message_count   integer NOT NULL DEFAULT 0 CHECK (message_count >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX threads_group_recent_idx ON threads (group_id, last_message_at DESC);

CREATE TABLE messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    thread_id   bigint NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    group_id    bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    parent_id   bigint REFERENCES messages (id) ON DELETE SET NULL,
    author_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    from_email  text NOT NULL DEFAULT '',
    -- The RFC 5322 Message-ID, without angle brackets; the same for every
    -- copy sent, so replies thread under it.
    message_id  text NOT NULL UNIQUE CHECK (message_id <> ''),
    in_reply_to text NOT NULL DEFAULT '',
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    raw_source  bytea,
    source      text NOT NULL CHECK (source IN ('api', 'web', 'email')),
    status      text NOT NULL CHECK (status IN ('approved', 'held', 'rejected', 'removed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    approved_at timestamptz
);
CREATE INDEX messages_thread_idx ON messages (thread_id, created_at);
CREATE INDEX messages_group_status_idx ON messages (group_id, status, created_at);

-- One row per message and recipient: the record that makes fan-out
-- exactly-once. A row is claimed for sending by setting state 'sending' and
-- pushing next_attempt_at to the end of a lease; a sender that dies leaves
-- the row to be claimed again once the lease ends.
CREATE TABLE deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id         bigint REFERENCES users (id) ON DELETE SET NULL,
    email           text NOT NULL,
    state           text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'deferred', 'failed', 'suppressed', 'skipped')),
    skip_reason     text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    smtp_code       integer,
    last_error      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz,
    UNIQUE (message_id, user_id)
);
-- What senders claim: due rows only, oldest first.
CREATE INDEX deliveries_due_idx ON deliveries (next_attempt_at, id) WHERE state IN ('queued', 'deferred', 'sending');

-- Addresses Parley must not mail (hard bounces, complaints, manual).
CREATE TABLE suppressions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'bounce_score', 'unsubscribed', 'manual')),
    source     text NOT NULL DEFAULT '',
    detail     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX suppressions_email_key ON suppressions (lower(email));

CREATE TABLE bounce_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL DEFAULT '',
    delivery_id bigint REFERENCES deliveries (id) ON DELETE SET NULL,
    kind        text NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'delayed', 'unparsed')),
    status_code text NOT NULL DEFAULT '',
    diagnostic  text NOT NULL DEFAULT '',
    provider    text NOT NULL DEFAULT '',
    raw         bytea,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bounce_events_email_idx ON bounce_events (lower(email), received_at);

CREATE TABLE flags (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    flagged_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    reason      text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_by bigint REFERENCES users (id) ON DELETE SET NULL,
    resolved_at timestamptz,
    resolution  text CHECK (resolution IN ('approved', 'removed')),
    CHECK ((resolved_at IS NULL) = (resolution IS NULL)),
    UNIQUE (message_id, flagged_by)
);

CREATE TABLE moderation_actions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id     bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    message_id   bigint REFERENCES messages (id) ON DELETE CASCADE,
    target_user  bigint REFERENCES users (id) ON DELETE SET NULL,
    moderator_id bigint REFERENCES users (id) ON DELETE SET NULL,
    action       text NOT NULL CHECK (action IN ('approve', 'veto', 'remove', 'restore', 'approve_member', 'reject_member', 'ban_member')),
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_actions_group_idx ON moderation_actions (group_id, created_at DESC);

CREATE TABLE tags (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_name_key ON tags (lower(name));

CREATE TABLE resources (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_id     bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    uploader_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    message_id   bigint REFERENCES messages (id) ON DELETE SET NULL,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    content_hash text NOT NULL CHECK (content_hash ~ '^[0-9a-f]{64}$'),
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    content_type text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resources_group_idx ON resources (group_id, created_at DESC);

CREATE TABLE resource_tags (
    resource_id bigint NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    tag_id      bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, tag_id)
);

-- Who did what: admin actions, impersonation, permission changes.
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_id        bigint REFERENCES users (id) ON DELETE SET NULL,
    impersonator_id bigint REFERENCES users (id) ON DELETE SET NULL,
    action          text NOT NULL CHECK (action <> ''),
    target_type     text NOT NULL DEFAULT '',
    target_id       text NOT NULL DEFAULT '',
    details         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at DESC);
