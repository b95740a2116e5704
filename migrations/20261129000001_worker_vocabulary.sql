-- One wake-up mechanism and one replica-index vocabulary for the worker.
--
-- The worker listens on `berth_live`, the channel the live pages listen on, and reacts to
-- the `services` and `deployments` topics; no code sends a hand-written NOTIFY any more.
-- A rollout's lease is renewed on every look at it: a renewal alone is nothing a page
-- shows and no reason to reconcile, so it is no longer announced (it woke every open page
-- twice a second during a rollout, and would wake the worker itself).
DROP TRIGGER deployments_live ON deployments;
CREATE TRIGGER deployments_live AFTER INSERT OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION berth_live_notify('deployments');
CREATE TRIGGER deployments_live_update AFTER UPDATE ON deployments
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'lease_owner' - 'lease_until')
          IS DISTINCT FROM
          (to_jsonb(NEW) - 'lease_owner' - 'lease_until'))
    EXECUTE FUNCTION berth_live_notify('deployments');

-- A labelled container without a replica label has no replica index: NULL, not −1.
ALTER TABLE containers ALTER COLUMN replica DROP NOT NULL;
UPDATE containers SET replica = NULL WHERE replica < 0;
