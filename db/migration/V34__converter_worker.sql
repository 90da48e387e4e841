-- The converter workers that lease conversions, so that a queued conversion's waitingFor can say whether a worker
-- that could take it runs (none asked for work lately, only workers that do not declare the conversion options it
-- needs, or capable ones all busy), and GET /api/v1/workers can list them. Written from the lease calls at most once
-- per quarter of aneforge.conversions.worker-window per worker and registry instance (and at once when the declared
-- conversionOptions change), never on every call; rows not written for 7 days are deleted.
CREATE TABLE converter_worker (
    worker             TEXT PRIMARY KEY CHECK (length(worker) BETWEEN 1 AND 200),
    conversion_options INTEGER NOT NULL CHECK (conversion_options >= 0),
    first_call         TIMESTAMPTZ NOT NULL,
    last_call          TIMESTAMPTZ NOT NULL
);
CREATE INDEX converter_worker_last_call ON converter_worker (last_call);
