-- Backups (issue 20): a plan per service (its named volumes; schedule, stop or not,
-- retention), and every backup made — of a service's volumes, or of Berth's own database
-- (team_id NULL: the instance's, seen by the instance owner only). The leader runs what is
-- queued; a restore is queued the same way and run by the leader.
CREATE TABLE backup_plans (
    service_id   uuid PRIMARY KEY REFERENCES services(id) ON DELETE CASCADE,
    team_id      uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    schedule     text,
    stop_service boolean NOT NULL DEFAULT false,
    keep_last    integer CHECK (keep_last IS NULL OR keep_last >= 1),
    max_age_days integer CHECK (max_age_days IS NULL OR max_age_days >= 1),
    last_run_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE backups (
    id           uuid PRIMARY KEY,
    team_id      uuid REFERENCES teams(id) ON DELETE CASCADE,
    service_id   uuid REFERENCES services(id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('volumes', 'database')),
    trigger      text NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    stop_service boolean NOT NULL DEFAULT false,
    state        text NOT NULL DEFAULT 'queued'
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'deleted')),
    file         text,
    size_bytes   bigint,
    sha256       text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    -- A restore asked for (queued), running, and how the last one ended.
    restore_state text CHECK (restore_state IN ('queued', 'running', 'succeeded', 'failed')),
    restore_error text,
    restore_by    uuid,
    restored_at   timestamptz,
    CHECK ((kind = 'volumes') = (service_id IS NOT NULL))
);
CREATE INDEX backups_by_service ON backups (service_id, created_at DESC);
CREATE INDEX backups_queued ON backups (created_at) WHERE state = 'queued' OR restore_state = 'queued';
