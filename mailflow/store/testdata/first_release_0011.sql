-- The schema of Parley's first release, frozen: what migrations
-- 0001_init to 0011_trust made, as pg_dump (PostgreSQL 15, --no-owner
-- --no-privileges --inserts) wrote it from a cluster migrated with those
-- files only, without the cluster-specific lines (pg_dump's version
-- banner and its \restrict guard). The job queue's tables are not here:
-- river creates and upgrades its own. After the dump, a small dataset of
-- that release (users, groups, memberships, threads, messages,
-- deliveries, bounces, digests) as a site would hold it.
--
-- Never regenerate or edit the schema part: it stands for databases in
-- the field. mailflow/store's TestUpgradeFirstRelease loads this file and
-- runs the current migrations over it.

--
-- PostgreSQL database dump
--

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: api_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_tokens (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    name text DEFAULT ''::text NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    CONSTRAINT api_tokens_name_check CHECK ((length(name) <= 200))
);

--
-- Name: api_tokens_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.api_tokens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.api_tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: audit_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    actor_id bigint,
    impersonator_id bigint,
    action text NOT NULL,
    target_type text DEFAULT ''::text NOT NULL,
    target_id text DEFAULT ''::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT audit_log_action_check CHECK ((action <> ''::text))
);

--
-- Name: audit_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: auto_replies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auto_replies (
    email text NOT NULL,
    reason text NOT NULL,
    sent_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: bounce_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bounce_events (
    id bigint NOT NULL,
    email text DEFAULT ''::text NOT NULL,
    delivery_id bigint,
    kind text NOT NULL,
    status_code text DEFAULT ''::text NOT NULL,
    diagnostic text DEFAULT ''::text NOT NULL,
    provider text DEFAULT ''::text NOT NULL,
    raw bytea,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    provider_event_id text,
    class text DEFAULT ''::text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    scored boolean DEFAULT false NOT NULL,
    inbound_id bigint,
    CONSTRAINT bounce_events_class_check CHECK ((class = ANY (ARRAY[''::text, 'hard'::text, 'soft'::text]))),
    CONSTRAINT bounce_events_kind_check CHECK ((kind = ANY (ARRAY['hard'::text, 'soft'::text, 'complaint'::text, 'delayed'::text, 'unparsed'::text])))
);

--
-- Name: bounce_events_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.bounce_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.bounce_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: bounce_scores; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bounce_scores (
    email text NOT NULL,
    score numeric(8,2) DEFAULT 0 NOT NULL,
    last_hard_on date,
    last_soft_on date,
    last_bounce_at timestamp with time zone,
    disabled_at timestamp with time zone,
    warnings_sent integer DEFAULT 0 NOT NULL,
    last_warning_at timestamp with time zone,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT bounce_scores_email_check CHECK ((email = lower(email))),
    CONSTRAINT bounce_scores_score_check CHECK ((score >= (0)::numeric)),
    CONSTRAINT bounce_scores_warnings_sent_check CHECK ((warnings_sent >= 0))
);

--
-- Name: categories; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.categories (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    color text DEFAULT '#5b6b7b'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT categories_color_check CHECK ((color ~ '^#[0-9a-fA-F]{6}$'::text)),
    CONSTRAINT categories_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT categories_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]*$'::text))
);

--
-- Name: categories_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.categories ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.categories_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deliveries (
    id bigint NOT NULL,
    message_id bigint NOT NULL,
    user_id bigint,
    email text NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    skip_reason text DEFAULT ''::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone DEFAULT now() NOT NULL,
    smtp_code integer,
    last_error text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT deliveries_attempts_check CHECK ((attempts >= 0)),
    CONSTRAINT deliveries_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'sending'::text, 'sent'::text, 'deferred'::text, 'failed'::text, 'suppressed'::text, 'skipped'::text])))
);

--
-- Name: deliveries_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.deliveries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: digests; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.digests (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    period text NOT NULL,
    period_key date NOT NULL,
    due_at timestamp with time zone NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    messages integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT digests_period_check CHECK ((period = ANY (ARRAY['daily'::text, 'weekly'::text]))),
    CONSTRAINT digests_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'sent'::text, 'empty'::text, 'failed'::text])))
);

--
-- Name: digests_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.digests ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.digests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: flags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.flags (
    id bigint NOT NULL,
    message_id bigint NOT NULL,
    flagged_by bigint,
    reason text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_by bigint,
    resolved_at timestamp with time zone,
    resolution text,
    CONSTRAINT flags_check CHECK (((resolved_at IS NULL) = (resolution IS NULL))),
    CONSTRAINT flags_resolution_check CHECK ((resolution = ANY (ARRAY['approved'::text, 'removed'::text])))
);

--
-- Name: flags_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.flags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.flags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: groups; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.groups (
    id bigint NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    category_id bigint,
    picture_key text DEFAULT ''::text NOT NULL,
    official boolean DEFAULT false NOT NULL,
    join_policy text DEFAULT 'open'::text NOT NULL,
    listed boolean DEFAULT true NOT NULL,
    moderated boolean DEFAULT false NOT NULL,
    member_list_visibility text DEFAULT 'members'::text NOT NULL,
    reply_to text DEFAULT 'group'::text NOT NULL,
    location text DEFAULT ''::text NOT NULL,
    display_location text DEFAULT ''::text NOT NULL,
    created_by bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    archive_public boolean DEFAULT false NOT NULL,
    trust_posts integer DEFAULT 0 NOT NULL,
    CONSTRAINT groups_join_policy_check CHECK ((join_policy = ANY (ARRAY['open'::text, 'request'::text, 'invite'::text]))),
    CONSTRAINT groups_member_list_visibility_check CHECK ((member_list_visibility = ANY (ARRAY['members'::text, 'owners'::text]))),
    CONSTRAINT groups_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT groups_reply_to_check CHECK ((reply_to = ANY (ARRAY['group'::text, 'sender'::text]))),
    CONSTRAINT groups_slug_check CHECK ((slug ~ '^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$'::text)),
    CONSTRAINT groups_trust_posts_check CHECK (((trust_posts >= 0) AND (trust_posts <= 100)))
);

--
-- Name: groups_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.groups ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.groups_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: inbound_messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.inbound_messages (
    id bigint NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    transport text NOT NULL,
    remote_addr text DEFAULT ''::text NOT NULL,
    mail_from text DEFAULT ''::text NOT NULL,
    rcpt_to text[] NOT NULL,
    raw bytea NOT NULL,
    size_bytes integer NOT NULL,
    sha256 bytea NOT NULL,
    message_id text DEFAULT ''::text NOT NULL,
    state text DEFAULT 'received'::text NOT NULL,
    outcome text DEFAULT ''::text NOT NULL,
    processed_at timestamp with time zone,
    CONSTRAINT inbound_messages_size_bytes_check CHECK ((size_bytes >= 0)),
    CONSTRAINT inbound_messages_state_check CHECK ((state = ANY (ARRAY['received'::text, 'processed'::text, 'failed'::text]))),
    CONSTRAINT inbound_messages_transport_check CHECK ((transport = ANY (ARRAY['smtp'::text, 'lmtp'::text, 'imap'::text])))
);

--
-- Name: inbound_messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.inbound_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.inbound_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: login_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_failures (
    id bigint NOT NULL,
    key text NOT NULL,
    failed_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: login_failures_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.login_failures ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.login_failures_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: memberships; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.memberships (
    group_id bigint NOT NULL,
    user_id bigint NOT NULL,
    role text DEFAULT 'member'::text NOT NULL,
    delivery text DEFAULT 'immediate'::text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    whitelisted boolean DEFAULT false NOT NULL,
    echo_own_posts boolean,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT memberships_delivery_check CHECK ((delivery = ANY (ARRAY['immediate'::text, 'digest'::text, 'weekly'::text, 'none'::text]))),
    CONSTRAINT memberships_role_check CHECK ((role = ANY (ARRAY['member'::text, 'moderator'::text, 'owner'::text]))),
    CONSTRAINT memberships_status_check CHECK ((status = ANY (ARRAY['active'::text, 'requested'::text, 'invited'::text, 'banned'::text])))
);

--
-- Name: messages; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.messages (
    id bigint NOT NULL,
    thread_id bigint NOT NULL,
    group_id bigint NOT NULL,
    parent_id bigint,
    author_id bigint,
    from_email text DEFAULT ''::text NOT NULL,
    message_id text NOT NULL,
    in_reply_to text DEFAULT ''::text NOT NULL,
    subject text DEFAULT ''::text NOT NULL,
    body text DEFAULT ''::text NOT NULL,
    raw_source bytea,
    source text NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    approved_at timestamp with time zone,
    search tsvector GENERATED ALWAYS AS ((setweight(to_tsvector('english'::regconfig, COALESCE(subject, ''::text)), 'A'::"char") || setweight(to_tsvector('english'::regconfig, COALESCE(body, ''::text)), 'B'::"char"))) STORED,
    CONSTRAINT messages_message_id_check CHECK ((message_id <> ''::text)),
    CONSTRAINT messages_source_check CHECK ((source = ANY (ARRAY['api'::text, 'web'::text, 'email'::text]))),
    CONSTRAINT messages_status_check CHECK ((status = ANY (ARRAY['approved'::text, 'held'::text, 'rejected'::text, 'removed'::text])))
);

--
-- Name: messages_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: moderation_actions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.moderation_actions (
    id bigint NOT NULL,
    group_id bigint NOT NULL,
    message_id bigint,
    target_user bigint,
    moderator_id bigint,
    action text NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT moderation_actions_action_check CHECK ((action = ANY (ARRAY['approve'::text, 'veto'::text, 'remove'::text, 'restore'::text, 'approve_member'::text, 'reject_member'::text, 'ban_member'::text])))
);

--
-- Name: moderation_actions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.moderation_actions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.moderation_actions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: pictures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pictures (
    key text NOT NULL,
    content_type text NOT NULL,
    data bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT pictures_content_type_check CHECK ((content_type = ANY (ARRAY['image/jpeg'::text, 'image/png'::text]))),
    CONSTRAINT pictures_data_check CHECK ((octet_length(data) <= 1048576))
);

--
-- Name: resource_tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.resource_tags (
    resource_id bigint NOT NULL,
    tag_id bigint NOT NULL
);

--
-- Name: resources; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.resources (
    id bigint NOT NULL,
    group_id bigint NOT NULL,
    uploader_id bigint,
    message_id bigint,
    name text NOT NULL,
    content_hash text NOT NULL,
    size_bytes bigint NOT NULL,
    content_type text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    blob_key text DEFAULT ''::text NOT NULL,
    thumb_key text DEFAULT ''::text NOT NULL,
    filename text DEFAULT ''::text NOT NULL,
    kind text DEFAULT 'document'::text NOT NULL,
    tag_text text DEFAULT ''::text NOT NULL,
    content_text text DEFAULT ''::text NOT NULL,
    search tsvector GENERATED ALWAYS AS (((setweight(to_tsvector('english'::regconfig, name), 'A'::"char") || setweight(to_tsvector('english'::regconfig, tag_text), 'A'::"char")) || setweight(to_tsvector('english'::regconfig, content_text), 'C'::"char"))) STORED,
    CONSTRAINT resources_blob_key_check CHECK ((blob_key <> ''::text)),
    CONSTRAINT resources_content_hash_check CHECK ((content_hash ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT resources_content_text_check CHECK ((length(content_text) <= 110000)),
    CONSTRAINT resources_filename_check CHECK ((length(filename) <= 255)),
    CONSTRAINT resources_kind_check CHECK ((kind = ANY (ARRAY['pdf'::text, 'document'::text, 'spreadsheet'::text, 'presentation'::text, 'image'::text, 'text'::text, 'archive'::text]))),
    CONSTRAINT resources_name_check CHECK (((length(name) >= 1) AND (length(name) <= 300))),
    CONSTRAINT resources_size_bytes_check CHECK ((size_bytes >= 0))
);

--
-- Name: resources_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.resources ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.resources_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sessions (
    id_hash bytea NOT NULL,
    user_id bigint NOT NULL,
    impersonator_id bigint,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    idle_expires_at timestamp with time zone DEFAULT (now() + '14 days'::interval) NOT NULL,
    user_agent text DEFAULT ''::text NOT NULL,
    remote_ip text DEFAULT ''::text NOT NULL,
    rotate boolean DEFAULT false NOT NULL
);

--
-- Name: suppressions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.suppressions (
    id bigint NOT NULL,
    email text NOT NULL,
    reason text NOT NULL,
    source text DEFAULT ''::text NOT NULL,
    detail text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT suppressions_reason_check CHECK ((reason = ANY (ARRAY['hard_bounce'::text, 'complaint'::text, 'bounce_score'::text, 'unsubscribed'::text, 'manual'::text])))
);

--
-- Name: suppressions_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.suppressions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.suppressions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: tags; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tags (
    id bigint NOT NULL,
    name text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    slug text NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT tags_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT tags_name_check_line CHECK ((name !~ '[\r\n]'::text)),
    CONSTRAINT tags_slug_check CHECK ((slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'::text))
);

--
-- Name: tags_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.tags ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: thread_states; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.thread_states (
    user_id bigint NOT NULL,
    thread_id bigint NOT NULL,
    read_at timestamp with time zone,
    archived_at timestamp with time zone
);

--
-- Name: threads; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.threads (
    id bigint NOT NULL,
    group_id bigint NOT NULL,
    subject text NOT NULL,
    created_by bigint,
    message_count integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_message_at timestamp with time zone DEFAULT now() NOT NULL,
    private_member_id bigint,
    CONSTRAINT threads_message_count_check CHECK ((message_count >= 0)),
    CONSTRAINT threads_subject_check CHECK (((length(subject) >= 1) AND (length(subject) <= 998)))
);

--
-- Name: threads_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.threads ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.threads_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Name: user_identities; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_identities (
    issuer text NOT NULL,
    subject text NOT NULL,
    user_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

--
-- Name: users; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.users (
    id bigint NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    email_verified_at timestamp with time zone,
    password_hash text,
    timezone text DEFAULT 'UTC'::text NOT NULL,
    default_delivery text DEFAULT 'immediate'::text NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    is_superuser boolean DEFAULT false NOT NULL,
    is_staff boolean DEFAULT false NOT NULL,
    permissions text[] DEFAULT '{}'::text[] NOT NULL,
    title text DEFAULT ''::text NOT NULL,
    organization text DEFAULT ''::text NOT NULL,
    bio text DEFAULT ''::text NOT NULL,
    picture_key text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    website text DEFAULT ''::text NOT NULL,
    social_links text[] DEFAULT '{}'::text[] NOT NULL,
    show_groups boolean DEFAULT true NOT NULL,
    terms_accepted_at timestamp with time zone,
    password_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    last_login_at timestamp with time zone,
    visits integer DEFAULT 0 NOT NULL,
    CONSTRAINT users_default_delivery_check CHECK ((default_delivery = ANY (ARRAY['immediate'::text, 'digest'::text, 'weekly'::text, 'none'::text]))),
    CONSTRAINT users_email_check CHECK ((((length(email) >= 3) AND (length(email) <= 254)) AND (email ~~ '_%@_%'::text))),
    CONSTRAINT users_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT users_permissions_check CHECK ((permissions <@ ARRAY['create_groups'::text, 'manage_users'::text, 'add_resources'::text, 'view_reports'::text, 'manage_categories'::text, 'moderate_groups'::text])),
    CONSTRAINT users_social_links_check CHECK ((cardinality(social_links) <= 8)),
    CONSTRAINT users_status_check CHECK ((status = ANY (ARRAY['active'::text, 'banned'::text, 'deactivated'::text]))),
    CONSTRAINT users_timezone_check CHECK ((timezone <> ''::text)),
    CONSTRAINT users_visits_check CHECK ((visits >= 0)),
    CONSTRAINT users_website_check CHECK ((length(website) <= 500))
);

--
-- Name: users_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

--
-- Data for Name: api_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: audit_log; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: auto_replies; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: bounce_events; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: bounce_scores; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: categories; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: digests; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: flags; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: groups; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: inbound_messages; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: login_failures; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: memberships; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: messages; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: moderation_actions; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: pictures; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: resource_tags; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: resources; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES ('0001_init', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0002_inbound', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0003_bounces', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0004_digests', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0005_accounts', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0006_groups_web', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0007_inbox', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0008_reports', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0009_blobs', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0010_resources', '2026-01-15 09:00:00+00');
INSERT INTO public.schema_migrations VALUES ('0011_trust', '2026-01-15 09:00:00+00');

--
-- Data for Name: sessions; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: suppressions; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: tags; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: thread_states; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: threads; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: user_identities; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Data for Name: users; Type: TABLE DATA; Schema: public; Owner: -
--

--
-- Name: api_tokens_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.api_tokens_id_seq', 1, false);

--
-- Name: audit_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_log_id_seq', 1, false);

--
-- Name: bounce_events_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.bounce_events_id_seq', 1, false);

--
-- Name: categories_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.categories_id_seq', 1, false);

--
-- Name: deliveries_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.deliveries_id_seq', 1, false);

--
-- Name: digests_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.digests_id_seq', 1, false);

--
-- Name: flags_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.flags_id_seq', 1, false);

--
-- Name: groups_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.groups_id_seq', 1, false);

--
-- Name: inbound_messages_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.inbound_messages_id_seq', 1, false);

--
-- Name: login_failures_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.login_failures_id_seq', 1, false);

--
-- Name: messages_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.messages_id_seq', 1, false);

--
-- Name: moderation_actions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.moderation_actions_id_seq', 1, false);

--
-- Name: resources_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.resources_id_seq', 1, false);

--
-- Name: suppressions_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.suppressions_id_seq', 1, false);

--
-- Name: tags_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tags_id_seq', 1, false);

--
-- Name: threads_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.threads_id_seq', 1, false);

--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.users_id_seq', 1, false);

--
-- Name: api_tokens api_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_pkey PRIMARY KEY (id);

--
-- Name: api_tokens api_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash);

--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

--
-- Name: auto_replies auto_replies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auto_replies
    ADD CONSTRAINT auto_replies_pkey PRIMARY KEY (email, reason);

--
-- Name: bounce_events bounce_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bounce_events
    ADD CONSTRAINT bounce_events_pkey PRIMARY KEY (id);

--
-- Name: bounce_scores bounce_scores_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bounce_scores
    ADD CONSTRAINT bounce_scores_pkey PRIMARY KEY (email);

--
-- Name: categories categories_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.categories
    ADD CONSTRAINT categories_pkey PRIMARY KEY (id);

--
-- Name: categories categories_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.categories
    ADD CONSTRAINT categories_slug_key UNIQUE (slug);

--
-- Name: deliveries deliveries_message_id_user_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_message_id_user_id_key UNIQUE (message_id, user_id);

--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);

--
-- Name: digests digests_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.digests
    ADD CONSTRAINT digests_pkey PRIMARY KEY (id);

--
-- Name: digests digests_user_id_period_period_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.digests
    ADD CONSTRAINT digests_user_id_period_period_key_key UNIQUE (user_id, period, period_key);

--
-- Name: flags flags_message_id_flagged_by_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flags
    ADD CONSTRAINT flags_message_id_flagged_by_key UNIQUE (message_id, flagged_by);

--
-- Name: flags flags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flags
    ADD CONSTRAINT flags_pkey PRIMARY KEY (id);

--
-- Name: groups groups_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_pkey PRIMARY KEY (id);

--
-- Name: groups groups_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_slug_key UNIQUE (slug);

--
-- Name: inbound_messages inbound_messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.inbound_messages
    ADD CONSTRAINT inbound_messages_pkey PRIMARY KEY (id);

--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (id);

--
-- Name: memberships memberships_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_pkey PRIMARY KEY (group_id, user_id);

--
-- Name: messages messages_message_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_message_id_key UNIQUE (group_id, message_id);

--
-- Name: messages messages_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_pkey PRIMARY KEY (id);

--
-- Name: moderation_actions moderation_actions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.moderation_actions
    ADD CONSTRAINT moderation_actions_pkey PRIMARY KEY (id);

--
-- Name: pictures pictures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pictures
    ADD CONSTRAINT pictures_pkey PRIMARY KEY (key);

--
-- Name: resource_tags resource_tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_tags
    ADD CONSTRAINT resource_tags_pkey PRIMARY KEY (resource_id, tag_id);

--
-- Name: resources resources_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_pkey PRIMARY KEY (id);

--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id_hash);

--
-- Name: suppressions suppressions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.suppressions
    ADD CONSTRAINT suppressions_pkey PRIMARY KEY (id);

--
-- Name: tags tags_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tags
    ADD CONSTRAINT tags_pkey PRIMARY KEY (id);

--
-- Name: thread_states thread_states_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_states
    ADD CONSTRAINT thread_states_pkey PRIMARY KEY (user_id, thread_id);

--
-- Name: threads threads_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_pkey PRIMARY KEY (id);

--
-- Name: user_identities user_identities_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_identities
    ADD CONSTRAINT user_identities_pkey PRIMARY KEY (issuer, subject);

--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

--
-- Name: api_tokens_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX api_tokens_user_idx ON public.api_tokens USING btree (user_id);

--
-- Name: audit_log_created_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_created_idx ON public.audit_log USING btree (created_at DESC);

--
-- Name: audit_log_target_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_log_target_idx ON public.audit_log USING btree (target_type, target_id, created_at DESC);

--
-- Name: bounce_events_email_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX bounce_events_email_idx ON public.bounce_events USING btree (lower(email), received_at);

--
-- Name: bounce_events_provider_event_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX bounce_events_provider_event_key ON public.bounce_events USING btree (provider, provider_event_id) WHERE (provider_event_id IS NOT NULL);

--
-- Name: bounce_scores_disabled_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX bounce_scores_disabled_idx ON public.bounce_scores USING btree (disabled_at) WHERE (disabled_at IS NOT NULL);

--
-- Name: deliveries_due_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deliveries_due_idx ON public.deliveries USING btree (next_attempt_at, id) WHERE (state = ANY (ARRAY['queued'::text, 'deferred'::text, 'sending'::text]));

--
-- Name: digests_user_period_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX digests_user_period_idx ON public.digests USING btree (user_id, period, due_at DESC);

--
-- Name: flags_flagged_by_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX flags_flagged_by_idx ON public.flags USING btree (flagged_by) WHERE (flagged_by IS NOT NULL);

--
-- Name: flags_open_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX flags_open_idx ON public.flags USING btree (message_id) WHERE (resolved_at IS NULL);

--
-- Name: groups_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX groups_search_idx ON public.groups USING gin (to_tsvector('english'::regconfig, ((((((name || ' '::text) || description) || ' '::text) || location) || ' '::text) || display_location)));

--
-- Name: inbound_messages_received_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX inbound_messages_received_idx ON public.inbound_messages USING btree (received_at DESC);

--
-- Name: inbound_messages_sha256_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX inbound_messages_sha256_key ON public.inbound_messages USING btree (sha256);

--
-- Name: login_failures_key_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX login_failures_key_idx ON public.login_failures USING btree (key, failed_at);

--
-- Name: memberships_digest_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_digest_idx ON public.memberships USING btree (user_id) WHERE ((delivery = ANY (ARRAY['digest'::text, 'weekly'::text])) AND (status = 'active'::text));

--
-- Name: memberships_requested_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_requested_idx ON public.memberships USING btree (group_id) WHERE (status = 'requested'::text);

--
-- Name: memberships_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX memberships_user_idx ON public.memberships USING btree (user_id);

--
-- Name: messages_author_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_author_idx ON public.messages USING btree (author_id) WHERE (author_id IS NOT NULL);

--
-- Name: messages_group_status_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_group_status_idx ON public.messages USING btree (group_id, status, created_at);

--
-- Name: messages_held_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_held_idx ON public.messages USING btree (group_id) WHERE (status = 'held'::text);

--
-- Name: messages_message_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_message_id_idx ON public.messages USING btree (message_id);

--
-- Name: messages_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_search_idx ON public.messages USING gin (search);

--
-- Name: messages_thread_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX messages_thread_idx ON public.messages USING btree (thread_id, created_at);

--
-- Name: moderation_actions_group_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX moderation_actions_group_idx ON public.moderation_actions USING btree (group_id, created_at DESC);

--
-- Name: resource_tags_tag_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX resource_tags_tag_idx ON public.resource_tags USING btree (tag_id);

--
-- Name: resources_group_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX resources_group_idx ON public.resources USING btree (group_id, created_at DESC);

--
-- Name: resources_hash_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX resources_hash_idx ON public.resources USING btree (content_hash);

--
-- Name: resources_message_file_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX resources_message_file_key ON public.resources USING btree (message_id, content_hash, filename) WHERE (message_id IS NOT NULL);

--
-- Name: resources_search_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX resources_search_idx ON public.resources USING gin (search);

--
-- Name: sessions_expires_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_expires_idx ON public.sessions USING btree (expires_at);

--
-- Name: sessions_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX sessions_user_idx ON public.sessions USING btree (user_id);

--
-- Name: suppressions_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX suppressions_email_key ON public.suppressions USING btree (lower(email));

--
-- Name: tags_name_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX tags_name_key ON public.tags USING btree (lower(name));

--
-- Name: tags_slug_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX tags_slug_key ON public.tags USING btree (slug);

--
-- Name: thread_states_archived_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX thread_states_archived_idx ON public.thread_states USING btree (user_id, thread_id) WHERE (archived_at IS NOT NULL);

--
-- Name: thread_states_thread_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX thread_states_thread_idx ON public.thread_states USING btree (thread_id);

--
-- Name: threads_group_recent_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_group_recent_id_idx ON public.threads USING btree (group_id, last_message_at DESC, id DESC) INCLUDE (message_count, private_member_id);

--
-- Name: threads_private_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX threads_private_idx ON public.threads USING btree (private_member_id, last_message_at DESC) WHERE (private_member_id IS NOT NULL);

--
-- Name: user_identities_user_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX user_identities_user_idx ON public.user_identities USING btree (user_id);

--
-- Name: users_email_key; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX users_email_key ON public.users USING btree (lower(email));

--
-- Name: api_tokens api_tokens_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_tokens
    ADD CONSTRAINT api_tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: audit_log audit_log_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: audit_log audit_log_impersonator_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_impersonator_id_fkey FOREIGN KEY (impersonator_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: bounce_events bounce_events_delivery_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bounce_events
    ADD CONSTRAINT bounce_events_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES public.deliveries(id) ON DELETE SET NULL;

--
-- Name: bounce_events bounce_events_inbound_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bounce_events
    ADD CONSTRAINT bounce_events_inbound_id_fkey FOREIGN KEY (inbound_id) REFERENCES public.inbound_messages(id) ON DELETE SET NULL;

--
-- Name: deliveries deliveries_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;

--
-- Name: deliveries deliveries_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: digests digests_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.digests
    ADD CONSTRAINT digests_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: flags flags_flagged_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flags
    ADD CONSTRAINT flags_flagged_by_fkey FOREIGN KEY (flagged_by) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: flags flags_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flags
    ADD CONSTRAINT flags_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;

--
-- Name: flags flags_resolved_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flags
    ADD CONSTRAINT flags_resolved_by_fkey FOREIGN KEY (resolved_by) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: groups groups_category_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.categories(id) ON DELETE SET NULL;

--
-- Name: groups groups_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.groups
    ADD CONSTRAINT groups_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: memberships memberships_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;

--
-- Name: memberships memberships_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.memberships
    ADD CONSTRAINT memberships_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: messages messages_author_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_author_id_fkey FOREIGN KEY (author_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: messages messages_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;

--
-- Name: messages messages_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.messages(id) ON DELETE SET NULL;

--
-- Name: messages messages_thread_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.messages
    ADD CONSTRAINT messages_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES public.threads(id) ON DELETE CASCADE;

--
-- Name: moderation_actions moderation_actions_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.moderation_actions
    ADD CONSTRAINT moderation_actions_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;

--
-- Name: moderation_actions moderation_actions_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.moderation_actions
    ADD CONSTRAINT moderation_actions_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE CASCADE;

--
-- Name: moderation_actions moderation_actions_moderator_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.moderation_actions
    ADD CONSTRAINT moderation_actions_moderator_id_fkey FOREIGN KEY (moderator_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: moderation_actions moderation_actions_target_user_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.moderation_actions
    ADD CONSTRAINT moderation_actions_target_user_fkey FOREIGN KEY (target_user) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: resource_tags resource_tags_resource_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_tags
    ADD CONSTRAINT resource_tags_resource_id_fkey FOREIGN KEY (resource_id) REFERENCES public.resources(id) ON DELETE CASCADE;

--
-- Name: resource_tags resource_tags_tag_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resource_tags
    ADD CONSTRAINT resource_tags_tag_id_fkey FOREIGN KEY (tag_id) REFERENCES public.tags(id) ON DELETE CASCADE;

--
-- Name: resources resources_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;

--
-- Name: resources resources_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.messages(id) ON DELETE SET NULL;

--
-- Name: resources resources_uploader_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.resources
    ADD CONSTRAINT resources_uploader_id_fkey FOREIGN KEY (uploader_id) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: sessions sessions_impersonator_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_impersonator_id_fkey FOREIGN KEY (impersonator_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: thread_states thread_states_thread_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_states
    ADD CONSTRAINT thread_states_thread_id_fkey FOREIGN KEY (thread_id) REFERENCES public.threads(id) ON DELETE CASCADE;

--
-- Name: thread_states thread_states_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.thread_states
    ADD CONSTRAINT thread_states_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: threads threads_created_by_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_created_by_fkey FOREIGN KEY (created_by) REFERENCES public.users(id) ON DELETE SET NULL;

--
-- Name: threads threads_group_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_group_id_fkey FOREIGN KEY (group_id) REFERENCES public.groups(id) ON DELETE CASCADE;

--
-- Name: threads threads_private_member_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.threads
    ADD CONSTRAINT threads_private_member_id_fkey FOREIGN KEY (private_member_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- Name: user_identities user_identities_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_identities
    ADD CONSTRAINT user_identities_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;

--
-- PostgreSQL database dump complete
--

--
-- The dataset: a small site some weeks after its first release. Two
-- groups (a public garden club with a category, a trusted-posts setting
-- and a public archive; an invitation-only board that is moderated and
-- unlisted), five people, three threads, six messages (one held),
-- deliveries in every end state, a bounced address with its score and
-- events, a suppression, digests sent and queued, an API token, an
-- inbound message and audit entries.
--

SET search_path = public;

INSERT INTO users (id, email, name, email_verified_at, password_hash, timezone, default_delivery, status, is_superuser, permissions, title, created_at, updated_at, terms_accepted_at, password_changed_at, visits) OVERRIDING SYSTEM VALUE VALUES
 (1, 'alice@example.org', 'Alice Admin', '2026-01-15 09:10:00+00', NULL, 'Europe/Paris', 'immediate', 'active', true, '{create_groups,manage_users}', 'Coordinator', '2026-01-15 09:05:00+00', '2026-01-15 09:05:00+00', '2026-01-15 09:10:00+00', '2026-01-15 09:05:00+00', 12),
 (2, 'bob@example.org', 'Bob Gardener', '2026-01-16 10:00:00+00', NULL, 'UTC', 'immediate', 'active', false, '{}', '', '2026-01-16 09:55:00+00', '2026-01-16 09:55:00+00', '2026-01-16 10:00:00+00', '2026-01-16 09:55:00+00', 4),
 (3, 'carol@example.org', 'Carol Reader', '2026-01-16 11:00:00+00', NULL, 'America/New_York', 'digest', 'active', false, '{}', '', '2026-01-16 10:55:00+00', '2026-01-16 10:55:00+00', '2026-01-16 11:00:00+00', '2026-01-16 10:55:00+00', 1),
 (4, 'dave@bounce.example.net', 'Dave Bounced', '2026-01-17 08:00:00+00', NULL, 'UTC', 'immediate', 'active', false, '{}', '', '2026-01-17 07:55:00+00', '2026-01-17 07:55:00+00', '2026-01-17 08:00:00+00', '2026-01-17 07:55:00+00', 0),
 (5, 'erin@example.org', 'Erin Banned', NULL, NULL, 'UTC', 'immediate', 'banned', false, '{}', '', '2026-01-18 12:00:00+00', '2026-01-18 12:00:00+00', NULL, '2026-01-18 12:00:00+00', 0);

INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 1, 'backup script', sha256('first-release-token'::bytea), '2026-01-20 08:00:00+00');

INSERT INTO categories (id, slug, name, color, created_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 'community', 'Community', '#2e7d32', '2026-01-15 09:20:00+00');

INSERT INTO groups (id, slug, name, description, category_id, official, join_policy, listed, moderated, member_list_visibility, reply_to, location, display_location, created_by, created_at, updated_at, archive_public, trust_posts) OVERRIDING SYSTEM VALUE VALUES
 (1, 'garden', 'Garden Club', 'Plants and **seeds**.', 1, true, 'open', true, false, 'members', 'group', 'Lyon', 'Lyon, France', 1, '2026-01-15 09:30:00+00', '2026-01-15 09:30:00+00', true, 2),
 (2, 'board', 'The Board', 'Minutes and agendas.', NULL, false, 'invite', false, true, 'owners', 'sender', '', '', 1, '2026-01-15 09:40:00+00', '2026-01-15 09:40:00+00', false, 0);

INSERT INTO memberships (group_id, user_id, role, delivery, status, whitelisted, echo_own_posts, created_at, updated_at) VALUES
 (1, 1, 'owner', 'immediate', 'active', false, NULL, '2026-01-15 09:30:00+00', '2026-01-15 09:30:00+00'),
 (1, 2, 'member', 'immediate', 'active', true, true, '2026-01-16 10:05:00+00', '2026-01-16 10:05:00+00'),
 (1, 3, 'member', 'digest', 'active', false, NULL, '2026-01-16 11:05:00+00', '2026-01-16 11:05:00+00'),
 (1, 4, 'member', 'immediate', 'active', false, NULL, '2026-01-17 08:05:00+00', '2026-01-17 08:05:00+00'),
 (2, 1, 'owner', 'immediate', 'active', false, NULL, '2026-01-15 09:40:00+00', '2026-01-15 09:40:00+00'),
 (2, 2, 'moderator', 'weekly', 'active', false, NULL, '2026-01-16 10:10:00+00', '2026-01-16 10:10:00+00'),
 (2, 5, 'member', 'immediate', 'requested', false, NULL, '2026-01-18 12:05:00+00', '2026-01-18 12:05:00+00');

INSERT INTO threads (id, group_id, subject, created_by, message_count, created_at, last_message_at, private_member_id) OVERRIDING SYSTEM VALUE VALUES
 (1, 1, 'Seed swap in March', 1, 3, '2026-01-19 08:00:00+00', '2026-01-19 17:30:00+00', NULL),
 (2, 1, 'Tomato blight', 2, 1, '2026-01-20 09:00:00+00', '2026-01-20 09:00:00+00', NULL),
 (3, 2, 'Agenda for February', 1, 2, '2026-01-21 10:00:00+00', '2026-01-21 11:00:00+00', NULL);

INSERT INTO messages (id, thread_id, group_id, parent_id, author_id, from_email, message_id, in_reply_to, subject, body, raw_source, source, status, created_at, approved_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 1, 1, NULL, 1, 'alice@example.org', '<seed-1@lists.example.org>', '', 'Seed swap in March', 'Bring your spare seeds to the hall on **March 7**.', NULL, 'web', 'approved', '2026-01-19 08:00:00+00', '2026-01-19 08:00:00+00'),
 (2, 1, 1, 1, 2, 'bob@example.org', '<CAB0b-reply@mail.example.org>', '<seed-1@lists.example.org>', 'Re: Seed swap in March', 'I will bring runner beans.

> Bring your spare seeds
', convert_to('From: Bob Gardener <bob@example.org>
To: garden@lists.example.org
Subject: Re: Seed swap in March
Message-ID: <CAB0b-reply@mail.example.org>
In-Reply-To: <seed-1@lists.example.org>

I will bring runner beans.
', 'UTF8'), 'email', 'approved', '2026-01-19 12:00:00+00', '2026-01-19 12:00:00+00'),
 (3, 1, 1, 2, 3, 'carol@example.org', '<seed-3@lists.example.org>', '<CAB0b-reply@mail.example.org>', 'Re: Seed swap in March', 'Courgettes from me.', NULL, 'api', 'approved', '2026-01-19 17:30:00+00', '2026-01-19 17:30:00+00'),
 (4, 2, 1, NULL, 2, 'bob@example.org', '<blight-1@lists.example.org>', '', 'Tomato blight', 'Has anyone found a cure for blight?', NULL, 'web', 'approved', '2026-01-20 09:00:00+00', '2026-01-20 09:00:00+00'),
 (5, 3, 2, NULL, 1, 'alice@example.org', '<agenda-1@lists.example.org>', '', 'Agenda for February', '1. Budget
2. Spring fair', NULL, 'web', 'approved', '2026-01-21 10:00:00+00', '2026-01-21 10:00:00+00'),
 (6, 3, 2, 5, 2, 'bob@example.org', '<agenda-2@lists.example.org>', '<agenda-1@lists.example.org>', 'Re: Agenda for February', 'Add the shed roof, please.', NULL, 'web', 'held', '2026-01-21 11:00:00+00', NULL);

INSERT INTO thread_states (user_id, thread_id, read_at, archived_at) VALUES
 (2, 1, '2026-01-19 18:00:00+00', NULL),
 (3, 2, '2026-01-20 10:00:00+00', '2026-01-20 10:01:00+00');

INSERT INTO moderation_actions (id, group_id, message_id, target_user, moderator_id, action, reason, created_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 2, NULL, 5, 1, 'ban_member', 'spam', '2026-01-18 12:30:00+00');

INSERT INTO deliveries (id, message_id, user_id, email, state, skip_reason, attempts, next_attempt_at, smtp_code, last_error, created_at, sent_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 1, 2, 'bob@example.org', 'sent', '', 1, '2026-01-19 08:00:01+00', 250, '', '2026-01-19 08:00:01+00', '2026-01-19 08:00:02+00'),
 (2, 1, 3, 'carol@example.org', 'skipped', 'digest', 0, '2026-01-19 08:00:01+00', NULL, '', '2026-01-19 08:00:01+00', NULL),
 (3, 1, 4, 'dave@bounce.example.net', 'failed', '', 1, '2026-01-19 08:00:01+00', 550, '550 5.1.1 <dave@bounce.example.net>: user unknown', '2026-01-19 08:00:01+00', NULL),
 (4, 2, 1, 'alice@example.org', 'sent', '', 1, '2026-01-19 12:00:01+00', 250, '', '2026-01-19 12:00:01+00', '2026-01-19 12:00:03+00'),
 (5, 4, 1, 'alice@example.org', 'deferred', '', 2, '2026-01-20 10:00:00+00', 451, '451 4.7.1 try again later', '2026-01-20 09:00:01+00', NULL),
 (6, 4, 4, 'dave@bounce.example.net', 'suppressed', '', 0, '2026-01-20 09:00:01+00', NULL, '', '2026-01-20 09:00:01+00', NULL),
 (7, 5, 2, 'bob@example.org', 'queued', '', 0, '2026-01-21 10:00:01+00', NULL, '', '2026-01-21 10:00:01+00', NULL);

INSERT INTO inbound_messages (id, received_at, transport, remote_addr, mail_from, rcpt_to, raw, size_bytes, sha256, message_id, state, outcome, processed_at) OVERRIDING SYSTEM VALUE VALUES
 (1, '2026-01-19 12:00:00+00', 'smtp', '192.0.2.10:41000', 'bob@example.org', '{garden@lists.example.org}',
  convert_to('Message-ID: <CAB0b-reply@mail.example.org>', 'UTF8'), 42, sha256(convert_to('Message-ID: <CAB0b-reply@mail.example.org>', 'UTF8')),
  '<CAB0b-reply@mail.example.org>', 'processed', 'posted', '2026-01-19 12:00:00+00');

INSERT INTO bounce_events (id, email, delivery_id, kind, status_code, diagnostic, provider, raw, received_at, provider_event_id, class, reason, scored, inbound_id) OVERRIDING SYSTEM VALUE VALUES
 (1, 'dave@bounce.example.net', 3, 'hard', '5.1.1', '550 5.1.1 user unknown', 'smtp', NULL, '2026-01-19 08:00:02+00', NULL, 'hard', 'bad_mailbox', true, NULL),
 (2, 'dave@bounce.example.net', NULL, 'hard', '5.1.1', 'smtp;550 5.1.1 unknown', 'postmark', NULL, '2026-01-20 09:30:00+00', '8431', 'hard', 'bad_mailbox', true, NULL),
 (3, 'carol@example.org', NULL, 'delayed', '4.4.7', 'delayed 4 hours', 'dsn', NULL, '2026-01-21 09:00:00+00', NULL, '', '', false, NULL);

INSERT INTO bounce_scores (email, score, last_hard_on, last_soft_on, last_bounce_at, disabled_at, warnings_sent, last_warning_at, updated_at) VALUES
 ('dave@bounce.example.net', 2.00, '2026-01-20', NULL, '2026-01-20 09:30:00+00', NULL, 0, NULL, '2026-01-20 09:30:00+00');

INSERT INTO suppressions (id, email, reason, source, detail, created_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 'gone@example.net', 'hard_bounce', 'postmark', '550 5.1.1 no such user', '2026-01-18 15:00:00+00');

INSERT INTO digests (id, user_id, period, period_key, due_at, state, messages, created_at, sent_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 3, 'daily', '2026-01-19', '2026-01-20 12:00:00+00', 'sent', 3, '2026-01-20 12:00:00+00', '2026-01-20 12:00:05+00'),
 (2, 3, 'daily', '2026-01-20', '2026-01-21 12:00:00+00', 'empty', 0, '2026-01-21 12:00:00+00', NULL),
 (3, 2, 'weekly', '2026-01-19', '2026-01-26 07:00:00+00', 'queued', 0, '2026-01-26 07:00:00+00', NULL);

INSERT INTO audit_log (id, actor_id, impersonator_id, action, target_type, target_id, details, created_at) OVERRIDING SYSTEM VALUE VALUES
 (1, 1, NULL, 'group.create', 'group', 'garden', '{}', '2026-01-15 09:30:00+00'),
 (2, 1, NULL, 'group.create', 'group', 'board', '{}', '2026-01-15 09:40:00+00'),
 (3, 1, NULL, 'user.ban', 'user', '5', '{"reason": "spam"}', '2026-01-18 12:30:00+00');

-- What pg_dump would have written for the identity sequences.
SELECT setval('public.users_id_seq', 5), setval('public.api_tokens_id_seq', 1), setval('public.categories_id_seq', 1),
       setval('public.groups_id_seq', 2), setval('public.threads_id_seq', 3), setval('public.messages_id_seq', 6),
       setval('public.moderation_actions_id_seq', 1), setval('public.deliveries_id_seq', 7),
       setval('public.inbound_messages_id_seq', 1), setval('public.bounce_events_id_seq', 3),
       setval('public.suppressions_id_seq', 1), setval('public.digests_id_seq', 3), setval('public.audit_log_id_seq', 3);
