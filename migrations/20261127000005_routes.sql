-- Public HTTP routes through the edge proxy (Caddy). A host name belongs to one service in
-- all of Berth (the primary key makes two claims impossible, even racing ones), and the
-- proxy side reports what it last applied for each service, so the dashboard can say
-- whether a route is live.

CREATE TABLE service_domains (
    host        text PRIMARY KEY CHECK (host ~ '^[a-z0-9.-]{1,253}$'),
    service_id  uuid NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE
);
CREATE INDEX service_domains_service_idx ON service_domains (service_id);

CREATE TABLE service_routes (
    service_id  uuid PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
    team_id     uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    -- Replicas the proxy sends requests to now (ready ones, not draining).
    upstreams   integer NOT NULL,
    -- Why the proxy could not be configured, if it could not.
    error       text,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER service_routes_live AFTER INSERT OR UPDATE OR DELETE ON service_routes
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('services');
