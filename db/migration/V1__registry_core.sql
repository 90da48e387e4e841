-- Registry core: models, versions, blobs, variants, aliases (+ history), API tokens.
-- Later issues add conversions, jobs, agents and results in V2+ migrations; statuses are
-- text columns with CHECK constraints so a migration can widen them (drop + re-add the check).

CREATE TABLE model (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT        NOT NULL UNIQUE,
    task         TEXT        NOT NULL,
    description  TEXT        NOT NULL DEFAULT '',
    owner        TEXT        NOT NULL,
    -- Version numbers are handed out by UPDATE ... RETURNING on this row: the row lock
    -- serializes concurrent creators, so numbers are dense and never collide.
    last_version INTEGER     NOT NULL DEFAULT 0,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT model_name_form CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,127}$')
);

CREATE TABLE model_version (
    id              BIGSERIAL PRIMARY KEY,
    model_id        BIGINT      NOT NULL REFERENCES model (id),
    version         INTEGER     NOT NULL,
    source_type     TEXT        NOT NULL CHECK (source_type IN ('hub', 'upload')),
    hub_repo        TEXT,
    hub_revision    TEXT,
    -- The pinned 40-hex commit; null until the pipeline pins a symbolic revision.
    hub_commit      CHAR(40),
    status          TEXT        NOT NULL CHECK (status IN ('draft', 'published', 'yanked')),
    created_by      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at    TIMESTAMPTZ,
    yanked_at       TIMESTAMPTZ,
    yank_reason     TEXT,
    UNIQUE (model_id, version),
    CONSTRAINT hub_source_complete CHECK (source_type <> 'hub' OR (hub_repo IS NOT NULL AND hub_revision IS NOT NULL)),
    CONSTRAINT hub_commit_form CHECK (hub_commit IS NULL OR hub_commit ~ '^[0-9a-f]{40}$')
);

CREATE TABLE blob (
    digest      CHAR(64)    PRIMARY KEY CHECK (digest ~ '^[0-9a-f]{64}$'),
    size        BIGINT      NOT NULL CHECK (size >= 0),
    media_type  TEXT        NOT NULL,
    storage_key TEXT        NOT NULL,
    created_by  TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE variant (
    id                BIGSERIAL PRIMARY KEY,
    version_id        BIGINT      NOT NULL REFERENCES model_version (id),
    chip              TEXT        NOT NULL,
    -- In iOS numbering (MAJOR.MINOR); macOS targets are stored as their iOS equivalent.
    deployment_target TEXT        NOT NULL CHECK (deployment_target ~ '^[0-9]{1,3}\.[0-9]{1,3}$'),
    layout            TEXT        NOT NULL CHECK (layout IN ('ane', 'standard')),
    precision         TEXT        NOT NULL CHECK (precision IN ('fp16', 'int8', 'w8a8', 'int4', 'fp32')),
    block_size        INTEGER     CHECK (block_size IS NULL OR block_size > 0),
    seq_len           INTEGER     NOT NULL CHECK (seq_len > 0),
    blob_digest       CHAR(64)    NOT NULL REFERENCES blob (digest),
    size              BIGINT      NOT NULL,
    status            TEXT        NOT NULL CHECK (status IN ('available', 'yanked')),
    yank_reason       TEXT,
    created_by        TEXT        NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A variant is identified by these six facts within a version (CONVERTER.md §4).
CREATE UNIQUE INDEX variant_identity ON variant
    (version_id, chip, deployment_target, layout, precision, COALESCE(block_size, 0), seq_len);

CREATE TABLE alias (
    model_id   BIGINT      NOT NULL REFERENCES model (id),
    name       TEXT        NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    version_id BIGINT      NOT NULL REFERENCES model_version (id),
    updated_by TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (model_id, name)
);

-- Append-only: the application only inserts; the trigger refuses updates and deletes.
CREATE TABLE alias_history (
    id           BIGSERIAL PRIMARY KEY,
    model_id     BIGINT      NOT NULL REFERENCES model (id),
    alias        TEXT        NOT NULL,
    from_version INTEGER,
    to_version   INTEGER     NOT NULL,
    changed_by   TEXT        NOT NULL,
    reason       TEXT        NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX alias_history_lookup ON alias_history (model_id, alias, id);

CREATE FUNCTION alias_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'alias_history is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER alias_history_no_rewrite BEFORE UPDATE OR DELETE ON alias_history
    FOR EACH ROW EXECUTE FUNCTION alias_history_append_only();

CREATE TABLE api_token (
    id           BIGSERIAL PRIMARY KEY,
    name         TEXT        NOT NULL,
    role         TEXT        NOT NULL CHECK (role IN ('reader', 'publisher', 'qa', 'worker', 'agent', 'admin')),
    -- sha256 of the token, hex; the token itself is shown once, at minting.
    token_sha256 CHAR(64)    NOT NULL UNIQUE,
    created_by   TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
