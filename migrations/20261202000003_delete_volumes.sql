-- Deleting a service keeps its volumes unless the person asks otherwise: the choice is
-- stored with the deletion mark, and the worker (the finalizer) removes the volumes no
-- other service of the team uses, after the containers and before the row.
ALTER TABLE services ADD COLUMN delete_volumes boolean NOT NULL DEFAULT false;
