-- Release gates per model, cached roofline costs per package, and overrides in the alias history (issue 7).
-- V2 belongs to conversions, V3 to agents and jobs.

-- The gates of a model (io.aneforge.gate.Gates as JSON); no row = no gates (every variant passes).
CREATE TABLE model_gates (
    model_id   BIGINT      PRIMARY KEY REFERENCES model (id),
    gates      JSONB       NOT NULL,
    updated_by TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- What CostCounter counted in a package, keyed by the blob (one count per distinct package,
-- whichever variants share it). error: why the package could not be counted (then no estimate).
CREATE TABLE blob_cost (
    digest           CHAR(64)    PRIMARY KEY REFERENCES blob (digest),
    flops            BIGINT,
    weight_bytes     BIGINT,
    activation_bytes BIGINT,
    error            TEXT,
    computed_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT cost_or_error CHECK ((error IS NULL) = (flops IS NOT NULL AND weight_bytes IS NOT NULL
                                                     AND activation_bytes IS NOT NULL))
);

-- A move to a version whose gates did not pass, allowed by an admin: the gate verdict at the time is kept.
ALTER TABLE alias_history ADD COLUMN overridden   BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE alias_history ADD COLUMN gate_status  TEXT;
ALTER TABLE alias_history ADD COLUMN gate_reasons TEXT[];
