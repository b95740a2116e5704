-- Team administration: sign-ins a user can list and end, invitations, API tokens and the
-- audit log. Every secret (invitation link, API token) is stored as its SHA-256 digest:
-- both are 256 random bits, so a fast hash is enough and a stolen table grants nothing.

-- One row per signed-in browser session. The session cookie carries the row's id; ending
-- the row (sign-out elsewhere, password change) ends that session on its next request.
CREATE TABLE logins (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ip           text,
    user_agent   text CHECK (length(user_agent) <= 300)
);
CREATE INDEX logins_user_idx ON logins (user_id);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    email       text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,
    invited_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
    revoked_at  timestamptz
);
CREATE INDEX invitations_team_idx ON invitations (team_id, created_at DESC);

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    role         text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'viewer')),
    token_hash   bytea NOT NULL UNIQUE,
    created_by   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_team_idx ON api_tokens (team_id, created_at DESC);

-- Who did what to what, when, from where. Labels are copied at write time so an entry
-- still reads right after its actor or target is gone.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_kind   text NOT NULL CHECK (actor_kind IN ('user', 'token', 'webhook', 'worker')),
    actor_id     uuid,
    actor        text NOT NULL,
    action       text NOT NULL,
    target_kind  text NOT NULL,
    target_id    uuid,
    target       text NOT NULL,
    ip           text,
    summary      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_team_idx ON audit_log (team_id, id DESC);
