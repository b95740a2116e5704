-- The image a deployment ran, as the worker resolved it when its rollout began: the
-- image id (sha256 of the image config, from the engine) and, for an image pulled from a
-- registry, the registry digest (`repo@sha256:…`). Its containers, scale-ups, repairs and a
-- rollback to it are created from the id, so a tag that moved later changes none of them.
-- NULL for a deployment whose image is not resolved yet (and for those made before this).
ALTER TABLE deployments
    ADD COLUMN image_id text CHECK (image_id ~ '^sha256:[0-9a-f]{64}$'),
    ADD COLUMN image_digest text CHECK (length(image_digest) <= 600);
