-- Live dashboard: every change a page shows is announced on the `berth_live` channel (one
-- place, whichever code path wrote it), deployment log lines carry their rollout step, and
-- each service keeps a timeline of what happened to it, in words.

ALTER TABLE deployment_logs ADD COLUMN step text
    CHECK (step IN ('pull', 'start', 'health', 'stop_old', 'live'));

CREATE TABLE service_events (
    id          bigserial PRIMARY KEY,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    service_id  uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind        text NOT NULL
                CHECK (kind IN ('change', 'deployment', 'scale', 'stop', 'start', 'crash', 'restart', 'repair')),
    message     text NOT NULL
);
CREATE INDEX service_events_service_idx ON service_events (service_id, id DESC);

-- Payload: {"team": …, "service": …, "topic": services|containers|deployments|log|events}.
-- Listeners re-read what they show; the payload only says where to look.
CREATE FUNCTION berth_live_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    team uuid;
    service uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME = 'services' THEN
        team := r.team_id; service := r.id;
    ELSIF TG_TABLE_NAME = 'deployment_logs' THEN
        SELECT d.team_id, d.service_id INTO team, service FROM deployments d WHERE d.id = r.deployment_id;
    ELSE
        team := r.team_id; service := r.service_id;
    END IF;
    IF team IS NOT NULL THEN
        PERFORM pg_notify('berth_live', json_build_object(
            'team', team, 'service', service, 'topic', TG_ARGV[0])::text);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER services_live AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('services');
CREATE TRIGGER deployments_live AFTER INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('deployments');
CREATE TRIGGER deployment_logs_live AFTER INSERT ON deployment_logs
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('log');
CREATE TRIGGER service_events_live AFTER INSERT ON service_events
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('events');
-- The worker rewrites container rows on every look; only a change of what a page shows counts.
CREATE TRIGGER containers_live_insert_delete AFTER INSERT OR DELETE ON containers
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('containers');
CREATE TRIGGER containers_live_update AFTER UPDATE ON containers
    FOR EACH ROW
    WHEN ((OLD.state, OLD.health, OLD.exit_code, OLD.restart_count, OLD.started_at, OLD.crash_looping, OLD.ip)
          IS DISTINCT FROM
          (NEW.state, NEW.health, NEW.exit_code, NEW.restart_count, NEW.started_at, NEW.crash_looping, NEW.ip))
    EXECUTE FUNCTION berth_live_notify('containers');

-- A rollback is a new deployment of an earlier one's definition.
ALTER TABLE deployments DROP CONSTRAINT deployments_trigger_check;
ALTER TABLE deployments ADD CONSTRAINT deployments_trigger_check
    CHECK (trigger IN ('create', 'update', 'scale', 'redeploy', 'rollback'));
