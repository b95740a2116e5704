-- Notifications: a team's channels (where to send, which events: the channel's rules) and
-- the delivery log, which is also the queue: the worker only inserts rows, a separate
-- sender task sends them with bounded retries.

CREATE TABLE notification_channels (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id       uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    kind          text NOT NULL CHECK (kind IN ('webhook', 'slack', 'discord', 'email')),
    -- webhook, slack, discord: the URL posted to.
    url           text,
    -- email: host, port, security, username, from, to (never the password).
    smtp          jsonb,
    -- The webhook's signing secret or the SMTP password, sealed (context
    -- "notify:<channel id>").
    secret_sealed text,
    events        text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, name)
);

CREATE TABLE notification_deliveries (
    id              bigserial PRIMARY KEY,
    team_id         uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    channel_id      uuid NOT NULL REFERENCES notification_channels(id) ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);

CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX notification_deliveries_by_channel ON notification_deliveries (channel_id, id DESC);
