-- Services (desired state), their deployments, and what the worker observed in Docker.

CREATE TABLE services (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    -- The ServiceSpec as JSON; values of secret variables are sealed (base64), never plain.
    spec          jsonb NOT NULL,
    -- Stopped: no replicas run, the spec's replica count is kept for the next start.
    stopped       boolean NOT NULL DEFAULT false,
    -- Finalizer: the worker removes the containers, then the row.
    deleting      boolean NOT NULL DEFAULT false,
    -- The deployment whose containers serve now (the last one that succeeded).
    live_deployment_id uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, name)
);

CREATE TABLE deployments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    service_id   uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    number       integer NOT NULL,
    -- Snapshot of the spec this deployment rolls out (secrets sealed, as in services).
    spec         jsonb NOT NULL,
    -- Containers with the same template are interchangeable: a change of replicas keeps the
    -- template (no container is replaced), any other change makes a new one.
    template     text NOT NULL CHECK (template ~ '^[0-9a-f]{12}$'),
    trigger      text NOT NULL CHECK (trigger IN ('create', 'update', 'scale', 'redeploy')),
    triggered_by uuid REFERENCES users (id) ON DELETE SET NULL,
    state        text NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'in_progress', 'succeeded', 'failed', 'rolled_back', 'superseded')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz,
    -- Set when the rollout starts: past it, the rollout is failed and rolled back.
    deadline     timestamptz,
    -- The berth process driving the rollout, and until when; an expired lease is taken over.
    lease_owner  uuid,
    lease_until  timestamptz,
    UNIQUE (service_id, number)
);
CREATE INDEX deployments_open_idx ON deployments (service_id) WHERE state IN ('pending', 'in_progress');

ALTER TABLE services ADD FOREIGN KEY (live_deployment_id) REFERENCES deployments (id) ON DELETE SET NULL;

CREATE TABLE deployment_logs (
    id            bigserial PRIMARY KEY,
    deployment_id uuid NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    line          text NOT NULL
);
CREATE INDEX deployment_logs_deployment_idx ON deployment_logs (deployment_id, id);

-- What the worker last saw of each container it owns (rewritten on every reconcile).
CREATE TABLE containers (
    id            text PRIMARY KEY,
    service_id    uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    deployment_id uuid REFERENCES deployments (id) ON DELETE SET NULL,
    template      text NOT NULL,
    replica       integer NOT NULL,
    name          text NOT NULL,
    state         text NOT NULL,
    health        text,
    exit_code     bigint,
    restart_count bigint NOT NULL DEFAULT 0,
    started_at    timestamptz,
    crash_looping boolean NOT NULL DEFAULT false,
    last_logs     text,
    -- Address on the team network.
    ip            text,
    observed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX containers_service_idx ON containers (service_id);
