-- Scheduled jobs and one-off commands: a job runs its command (argv) in a one-off container
-- from its service's live image on a cron schedule; every run (scheduled, started by a
-- person, or a one-off command) is a row of `job_runs` with its output in `job_run_logs`.

CREATE TABLE jobs (
    id            uuid PRIMARY KEY,
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    service_id    uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    name          text NOT NULL,
    schedule      text NOT NULL,
    command       jsonb NOT NULL,
    timeout_s     integer NOT NULL CHECK (timeout_s > 0),
    concurrency   text NOT NULL CHECK (concurrency IN ('forbid', 'replace', 'allow')),
    missed_runs   text NOT NULL CHECK (missed_runs IN ('run_once', 'skip')),
    enabled       boolean NOT NULL DEFAULT true,
    -- The scheduler has handled every occurrence up to here (its last tick while leading).
    scheduled_until timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (service_id, name)
);
CREATE INDEX jobs_team_idx ON jobs (team_id);

CREATE TABLE job_runs (
    id           uuid PRIMARY KEY,
    team_id      uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    service_id   uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    -- NULL: a one-off command.
    job_id       uuid REFERENCES jobs (id) ON DELETE CASCADE,
    number       bigserial NOT NULL,
    trigger      text NOT NULL CHECK (trigger IN ('schedule', 'missed', 'person', 'command')),
    command      jsonb NOT NULL,
    timeout_s    integer NOT NULL,
    state        text NOT NULL
                 CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'timed_out', 'skipped', 'interrupted')),
    reason       text,
    exit_code    integer,
    queued_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    started_at   timestamptz,
    finished_at  timestamptz,
    started_by   text
);
CREATE INDEX job_runs_job_idx ON job_runs (job_id, number DESC);
CREATE INDEX job_runs_service_idx ON job_runs (service_id, number DESC);
CREATE INDEX job_runs_open_idx ON job_runs (state) WHERE state IN ('queued', 'running');

CREATE TABLE job_run_logs (
    id          bigserial PRIMARY KEY,
    run_id      uuid NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
    team_id     uuid NOT NULL,
    service_id  uuid NOT NULL,
    stream      text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'berth')),
    line        text NOT NULL
);
CREATE INDEX job_run_logs_run_idx ON job_run_logs (run_id, id);

CREATE TRIGGER jobs_live AFTER INSERT OR UPDATE OR DELETE ON jobs
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('jobs');
CREATE TRIGGER job_runs_live AFTER INSERT OR UPDATE OR DELETE ON job_runs
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('jobs');
CREATE TRIGGER job_run_logs_live AFTER INSERT ON job_run_logs
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('jobs');
