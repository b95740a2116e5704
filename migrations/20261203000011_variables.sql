-- Shared variables and references (issue 18).
--
-- An environment's shared variables: a JSON list of {key, value, secret} in the order
-- they were written; a secret value is sealed (context `shared:<environment>:<key>`).
ALTER TABLE environments ADD COLUMN variables jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(variables) = 'array');

-- The env a deployment's containers get, references filled in, resolved once when its
-- rollout starts so that every container of the deployment (rollout, scale-up, repair,
-- one-off jobs) gets the same values: sealed as a whole (context
-- `resolved-env:<deployment>`), and its digest (SHA-256, hex) to tell whether the
-- service's env would resolve differently now ("needs redeploy"). NULL: not resolved yet,
-- or a deployment made before references existed (its spec's env is what it runs).
ALTER TABLE deployments ADD COLUMN resolved_env text;
ALTER TABLE deployments ADD COLUMN env_digest text;
