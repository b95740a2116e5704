-- What is wrong with a container, in words, as the worker last observed it: "killed: out of
-- memory (limit 16 MB)", or its failing health check's answer ("answered 400", Docker's
-- last probe output). NULL: nothing to say.
ALTER TABLE containers ADD COLUMN note text CHECK (length(note) <= 1000);

-- Health transitions (starting → healthy, healthy → unhealthy, back) and replacements of
-- replicas unhealthy for too long go on the timeline as their own kind.
ALTER TABLE service_events DROP CONSTRAINT service_events_kind_check;
ALTER TABLE service_events ADD CONSTRAINT service_events_kind_check
    CHECK (kind IN ('change', 'deployment', 'build', 'scale', 'stop', 'start', 'crash', 'restart', 'repair', 'health'));
