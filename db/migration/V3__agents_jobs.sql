-- Agents, benchmark/accuracy jobs and their results (issue 6). V2 belongs to conversions.

-- The golden inputs and FP32 outputs of a version (GoldenOutputsCodec "AFGO" blobs, the inputs
-- keyed by model input name, the outputs by model output name, same sample ids in both).
-- Set by the pipeline while the version is a draft; jobs wait for them.
ALTER TABLE model_version ADD COLUMN golden_digest        CHAR(64) REFERENCES blob (digest);
ALTER TABLE model_version ADD COLUMN golden_inputs_digest CHAR(64) REFERENCES blob (digest);

CREATE TABLE agent (
    id            UUID        PRIMARY KEY,
    -- Re-registering under the same host name keeps the id (an agent restart is the same agent).
    host_name     TEXT        NOT NULL UNIQUE,
    os_name       TEXT        NOT NULL,
    os_version    TEXT        NOT NULL,
    os_build      TEXT        NOT NULL,
    arch          TEXT        NOT NULL,
    cpu_brand     TEXT        NOT NULL,
    memory_bytes  BIGINT      NOT NULL CHECK (memory_bytes > 0),
    -- null: not an Apple chip (such hosts offer only the reference runtime)
    chip          TEXT,
    runtimes      TEXT[]      NOT NULL,
    -- the token that registered the agent: only it (or an admin) may act as this agent
    token_id      BIGINT      REFERENCES api_token (id),
    registered_by TEXT        NOT NULL,
    registered_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- online/offline is derived from last_seen_at; draining is the operator's (or SIGTERM's) word
    draining      BOOLEAN     NOT NULL DEFAULT false
);

CREATE TABLE job (
    id               BIGSERIAL   PRIMARY KEY,
    variant_id       BIGINT      NOT NULL REFERENCES variant (id),
    kind             TEXT        NOT NULL CHECK (kind IN ('benchmark', 'accuracy')),
    runtime          TEXT        NOT NULL,
    -- the chip an agent must have; null: any agent offering the runtime
    chip             TEXT,
    compute_units    TEXT        NOT NULL CHECK (compute_units IN ('cpuOnly', 'cpuAndGPU', 'cpuAndNeuralEngine', 'all')),
    state            TEXT        NOT NULL CHECK (state IN ('pending', 'leased', 'succeeded', 'failed')),
    -- runnable: the version's golden inputs and outputs are stored (kept here, not joined at lease
    -- time, so that leasing reads one table through one small index)
    ready            BOOLEAN     NOT NULL DEFAULT false,
    attempts         INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     INTEGER     NOT NULL CHECK (max_attempts > 0),
    lease_id         UUID,
    leased_by        UUID        REFERENCES agent (id),
    lease_expires_at TIMESTAMPTZ,
    failure_reason   TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at      TIMESTAMPTZ,
    CONSTRAINT lease_complete CHECK (state <> 'leased' OR (lease_id IS NOT NULL AND leased_by IS NOT NULL
                                                          AND lease_expires_at IS NOT NULL)),
    CONSTRAINT failure_explained CHECK (state <> 'failed' OR failure_reason IS NOT NULL)
);
CREATE UNIQUE INDEX job_identity ON job (variant_id, kind, runtime, compute_units);
-- The queue: only open, runnable jobs are indexed, so leasing stays cheap however many jobs are done.
CREATE INDEX job_queue ON job (id) WHERE ready AND state IN ('pending', 'leased');
CREATE INDEX job_variant ON job (variant_id);
CREATE UNIQUE INDEX job_lease ON job (lease_id) WHERE lease_id IS NOT NULL;

-- One row per (job, attempt): a repeated report of the same attempt is answered from here.
CREATE TABLE job_result (
    id                    BIGSERIAL   PRIMARY KEY,
    job_id                BIGINT      NOT NULL REFERENCES job (id),
    attempt               INTEGER     NOT NULL CHECK (attempt > 0),
    lease_id              UUID        NOT NULL,
    agent_id              UUID        NOT NULL REFERENCES agent (id),
    outcome               TEXT        NOT NULL CHECK (outcome IN ('succeeded', 'failed')),
    failure               TEXT,
    -- provenance: where the numbers came from
    host_name             TEXT,
    os_name               TEXT,
    os_version            TEXT,
    os_build              TEXT,
    chip                  TEXT,
    runtime               TEXT,
    runtime_version       TEXT,
    compute_units         TEXT,
    fp16_activations      BOOLEAN,
    threads               INTEGER,
    artifact_digest       TEXT,
    started_at            TIMESTAMPTZ,
    -- protocol
    warmup_iterations     INTEGER,
    timed_iterations      INTEGER,
    max_duration_ms       BIGINT,
    -- benchmark numbers (null for accuracy jobs)
    load_ms               DOUBLE PRECISION,
    first_prediction_ms   DOUBLE PRECISION,
    warmup_iterations_run INTEGER,
    latency_n             INTEGER,
    latency_min_ms        DOUBLE PRECISION,
    latency_p50_ms        DOUBLE PRECISION,
    latency_p90_ms        DOUBLE PRECISION,
    latency_p99_ms        DOUBLE PRECISION,
    latency_max_ms        DOUBLE PRECISION,
    latency_mean_ms       DOUBLE PRECISION,
    latency_stddev_ms     DOUBLE PRECISION,
    stopped_by_max_duration BOOLEAN,
    peak_resident_bytes   BIGINT,
    -- fidelity per output name (FidelityReport fields), validated before it is stored
    fidelity              JSONB,
    -- the worst cosine over all outputs (the gate's number), null when not measured
    cosine_min            DOUBLE PRECISION,
    reported_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (job_id, attempt),
    UNIQUE (lease_id),
    CONSTRAINT result_failure_explained CHECK (outcome <> 'failed' OR failure IS NOT NULL)
);
