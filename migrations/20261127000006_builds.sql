-- Push to deploy. A git service's deployment starts as a build: 'queued' (waiting for a
-- build slot), 'building' (a berth process checks out and builds it, under a lease), then
-- 'pending' with the built image in its spec, and rolls out like any other deployment.
-- A build that fails ends 'failed' and the live deployment keeps serving.

ALTER TABLE deployments DROP CONSTRAINT deployments_state_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_state_check
    CHECK (state IN ('queued', 'building', 'pending', 'in_progress', 'succeeded', 'failed',
                     'rolled_back', 'superseded'));
ALTER TABLE deployments DROP CONSTRAINT deployments_trigger_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_trigger_check
    CHECK (trigger IN ('create', 'update', 'scale', 'redeploy', 'rollback', 'webhook', 'deploy'));

ALTER TABLE deployments
    -- The commit built; NULL until a "deploy the branch head" build has resolved it.
    ADD COLUMN commit_sha     text CHECK (commit_sha ~ '^([0-9a-f]{40}|[0-9a-f]{64})$'),
    ADD COLUMN commit_message text CHECK (length(commit_message) <= 2000),
    ADD COLUMN commit_author  text CHECK (length(commit_author) <= 200),
    -- Which forge's webhook asked for it (trigger 'webhook').
    ADD COLUMN provider       text CHECK (provider IN ('github', 'gitlab', 'gitea')),
    -- Starts of this build: one cut short by a berth restart is run once more, then failed.
    ADD COLUMN build_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN build_started_at  timestamptz,
    ADD COLUMN build_finished_at timestamptz,
    -- Set when image retention removed this deployment's image: it can't be rolled back to.
    ADD COLUMN image_removed  boolean NOT NULL DEFAULT false;

CREATE INDEX deployments_build_queue_idx ON deployments (created_at) WHERE state = 'queued';

ALTER TABLE deployment_logs DROP CONSTRAINT deployment_logs_step_check;
ALTER TABLE deployment_logs ADD CONSTRAINT deployment_logs_step_check
    CHECK (step IN ('build', 'pull', 'start', 'health', 'stop_old', 'live'));

-- The webhook secret, sealed (base64 of the AEAD box); NULL until one is generated.
ALTER TABLE services ADD COLUMN webhook_secret text;

-- Deliveries already taken, so a replayed delivery queues nothing.
CREATE TABLE webhook_deliveries (
    service_id  uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    delivery    text NOT NULL CHECK (length(delivery) BETWEEN 1 AND 200),
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, delivery)
);

ALTER TABLE service_events DROP CONSTRAINT service_events_kind_check;
ALTER TABLE service_events ADD CONSTRAINT service_events_kind_check
    CHECK (kind IN ('change', 'deployment', 'build', 'scale', 'stop', 'start', 'crash', 'restart', 'repair'));
