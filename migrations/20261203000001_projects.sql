-- Projects and environments: a team's services grouped into applications. A project has
-- environments (`production` first); an environment has services, its own Docker network
-- (services reach each other there by name, and nothing else reaches them) and its own
-- volume-name prefix (a clone's volumes are new and empty).

CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- A DNS label, like a service name.
    name        text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, name),
    -- The target of the environments' (team, project) key: a project never holds another
    -- team's environment.
    UNIQUE (team_id, id)
);

CREATE TABLE environments (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    project_id    uuid NOT NULL,
    name          text NOT NULL CHECK (name ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    -- The Docker network its containers join (`berth-env-<id>`; the team network
    -- `berth-team-<team>` for the environment existing services moved into).
    network       text NOT NULL UNIQUE,
    -- Volume `data` of a service here is `<volume_prefix>-data`.
    volume_prefix text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name),
    UNIQUE (team_id, id),
    FOREIGN KEY (team_id, project_id) REFERENCES projects (team_id, id) ON DELETE CASCADE
);

-- Existing services move into a project `default`, environment `production`, that keeps
-- the team's network and volume names: no running container changes.
INSERT INTO projects (team_id, name)
SELECT DISTINCT team_id, 'default' FROM services;

INSERT INTO environments (team_id, project_id, name, network, volume_prefix)
SELECT p.team_id, p.id, 'production',
       'berth-team-' || replace(p.team_id::text, '-', ''),
       'berth-' || left(replace(p.team_id::text, '-', ''), 12)
FROM projects p;

ALTER TABLE services ADD COLUMN environment_id uuid;
UPDATE services s SET environment_id = e.id FROM environments e WHERE e.team_id = s.team_id;
ALTER TABLE services ALTER COLUMN environment_id SET NOT NULL;
-- No ON DELETE: an environment goes only once its services are gone.
ALTER TABLE services ADD FOREIGN KEY (team_id, environment_id) REFERENCES environments (team_id, id);

-- Service names are unique per environment: `web` in production and `web` in staging.
ALTER TABLE services DROP CONSTRAINT services_team_id_name_key;
ALTER TABLE services ADD CONSTRAINT services_environment_id_name_key UNIQUE (environment_id, name);
