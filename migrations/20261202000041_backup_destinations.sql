-- S3-compatible backup destinations (issue 20): one per team. When a team has one, each of
-- its backups is written locally and uploaded there; the backup row records the object's
-- key (or why the upload failed). The secret access key is sealed like other secrets.
CREATE TABLE backup_destinations (
    id            uuid PRIMARY KEY,
    team_id       uuid NOT NULL UNIQUE REFERENCES teams(id) ON DELETE CASCADE,
    endpoint      text NOT NULL,
    region        text NOT NULL,
    bucket        text NOT NULL,
    prefix        text NOT NULL DEFAULT '',
    access_key_id text NOT NULL,
    secret_sealed text NOT NULL,
    path_style    boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE backups
    -- Where the archive was uploaded (the destination and the object's key).
    ADD COLUMN destination_id uuid REFERENCES backup_destinations(id) ON DELETE SET NULL,
    ADD COLUMN remote_key     text,
    ADD COLUMN remote_url     text,
    -- A database dump's team: whose destination receives it and whose channels hear of a
    -- failure (the instance owner's team when the dump was asked for or planned).
    ADD COLUMN via_team_id    uuid REFERENCES teams(id) ON DELETE SET NULL;

-- Scheduled dumps of Berth's own database: one plan for the instance, set by the
-- instance owner from one of their teams (team_id: see backups.via_team_id).
CREATE TABLE database_backup_plan (
    singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    team_id      uuid REFERENCES teams(id) ON DELETE SET NULL,
    schedule     text,
    keep_last    integer CHECK (keep_last IS NULL OR keep_last >= 1),
    max_age_days integer CHECK (max_age_days IS NULL OR max_age_days >= 1),
    last_run_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
