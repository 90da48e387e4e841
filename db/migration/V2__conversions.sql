-- Conversions (issue 5): a version published with chips and a recipe queues one conversion,
-- which converter-workers lease over REST (FOR UPDATE SKIP LOCKED underneath).

-- Versions may now come from a local Hub snapshot directory the workers can read (air-gapped teams),
-- and a conversion that fails leaves its version 'failed'.
ALTER TABLE model_version DROP CONSTRAINT model_version_source_type_check;
ALTER TABLE model_version ADD CONSTRAINT model_version_source_type_check
    CHECK (source_type IN ('hub', 'upload', 'local'));
ALTER TABLE model_version ADD COLUMN local_path TEXT;
ALTER TABLE model_version ADD CONSTRAINT local_source_complete CHECK (source_type <> 'local' OR local_path IS NOT NULL);
ALTER TABLE model_version DROP CONSTRAINT model_version_status_check;
ALTER TABLE model_version ADD CONSTRAINT model_version_status_check
    CHECK (status IN ('draft', 'published', 'yanked', 'failed'));

CREATE TABLE conversion (
    id               BIGSERIAL PRIMARY KEY,
    version_id       BIGINT      NOT NULL UNIQUE REFERENCES model_version (id),
    state            TEXT        NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- The pipeline step last reported by the worker (fetch, import, golden, variants, finish).
    step             TEXT,
    chips            TEXT        NOT NULL,
    -- The recipe as given: a built-in name or the YAML text; the planned variants are in conversion_variant.
    recipe           TEXT        NOT NULL,
    seq_len          INTEGER     NOT NULL CHECK (seq_len > 0),
    attempts         INTEGER     NOT NULL DEFAULT 0,
    max_attempts     INTEGER     NOT NULL CHECK (max_attempts > 0),
    lease_owner      TEXT,
    -- A fresh token per lease: a worker whose lease expired and was taken over can no longer report.
    lease_token      TEXT,
    lease_expires_at TIMESTAMPTZ,
    resolved_commit  TEXT,
    golden_digest    TEXT CHECK (golden_digest IS NULL OR golden_digest ~ '^[0-9a-f]{64}$'),
    error            TEXT,
    created_by       TEXT        NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    CONSTRAINT running_has_lease CHECK (state <> 'running' OR (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL))
);
-- The lease scans only live conversions.
CREATE INDEX conversion_live ON conversion (id) WHERE state IN ('queued', 'running');

-- One row per planned variant (one Spring Batch partition each).
CREATE TABLE conversion_variant (
    id                BIGSERIAL PRIMARY KEY,
    conversion_id     BIGINT      NOT NULL REFERENCES conversion (id),
    -- VariantSpec.id(), e.g. a17_pro-ios18-ane-int8-block32-s128: the partition key.
    spec_id           TEXT        NOT NULL,
    chip              TEXT        NOT NULL,
    deployment_target TEXT        NOT NULL,
    layout            TEXT        NOT NULL,
    precision         TEXT        NOT NULL,
    seq_len           INTEGER     NOT NULL,
    attention_chunk   INTEGER     NOT NULL,
    state             TEXT        NOT NULL CHECK (state IN ('pending', 'building', 'registered', 'failed')),
    -- How many times a worker started building this variant: restarts must not rebuild finished ones.
    builds            INTEGER     NOT NULL DEFAULT 0,
    digest            TEXT CHECK (digest IS NULL OR digest ~ '^[0-9a-f]{64}$'),
    size              BIGINT,
    variant_id        BIGINT      REFERENCES variant (id),
    error             TEXT,
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (conversion_id, spec_id)
);
