-- An environment's git repository (issue 18): where the `build:` sections of a compose
-- file imported into it are built from. `{repo, branch, credentials?}` as the API takes
-- it; the credential's secret is sealed (context `envrepo:<environment>:<origin>`, bound
-- to the repository's host like a git service's). NULL: none.
ALTER TABLE environments ADD COLUMN repository jsonb
    CHECK (repository IS NULL OR jsonb_typeof(repository) = 'object');
