-- Refused writes in the audit trail (README "Not done yet": a 403 or 409 left neither a row nor a line). Kept apart
-- from audit_event, whose rows are changes that committed: a refusal changed nothing, so GET /api/v1/audit (and a
-- SIEM paging it) never mistakes one for a done write; GET /api/v1/audit/refusals reads this table.
--
-- Bounded, whatever a client sends: one row per hour (UTC) per acting token, method, endpoint (its path pattern, not
-- the path), problem type and model (the path's model only when it exists, else NULL), counting its refusals, with
-- the first and the last refused request's ids, path and problem detail. A flood of refused requests adds to a count;
-- it adds rows only with tokens (minted by an admin), endpoints, problem types and models (created by publishers).
-- Unauthenticated requests (401) are not recorded: nobody to name. Rows are deleted once their last refusal is older
-- than aneforge.audit.refusal-retention (30 days by default; always set, unlike the audit events' retention).
-- Not append-only, unlike audit_event: each refusal updates its hour's count.
CREATE TABLE audit_refusal (
    id               BIGSERIAL   PRIMARY KEY,
    -- the hour (UTC) the row counts: date_trunc('hour', now(), 'UTC')
    bucket           TIMESTAMPTZ NOT NULL,
    first_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    count            BIGINT      NOT NULL DEFAULT 1 CHECK (count > 0),
    -- the refused token; NULL id: the bootstrap admin token (aneforge.admin-token), which has no row
    actor_token_id   BIGINT,
    actor_name       TEXT        NOT NULL,
    actor_role       TEXT        NOT NULL,
    method           TEXT        NOT NULL,
    -- the endpoint's path pattern, e.g. /api/v1/models/{name}/aliases/{alias}
    route            TEXT        NOT NULL,
    -- the path's model when one by that name exists; NULL otherwise (the name a client sent is in last_path)
    model            TEXT,
    status           INT         NOT NULL,
    -- the problem's slug (gates-not-met, forbidden-role, ...), or its whole type URI when it is not the registry's
    problem_type     TEXT        NOT NULL,
    first_request_id TEXT,
    last_request_id  TEXT,
    last_path        TEXT        NOT NULL,
    last_detail      TEXT
);
CREATE UNIQUE INDEX audit_refusal_bucket ON audit_refusal
    (bucket, (COALESCE(actor_token_id, 0)), actor_name, method, route, problem_type, (COALESCE(model, '')));
CREATE INDEX audit_refusal_by_model ON audit_refusal (model, id);
CREATE INDEX audit_refusal_by_last_at ON audit_refusal (last_at);

-- Who held a job's lease that expired (README "Not done yet": leases are not audited, every agent polls, so the job's
-- own rows must say who ran it, and an expired attempt's holder was overwritten by the next lease). One row per
-- attempt whose lease ran out, written by the sweeper (Jobs.sweep) or by the lease that took the job over at once.
-- Shown in GET .../jobs as expiredLeases; reported attempts are in job_result (agent_id).
CREATE TABLE job_lease_expiry (
    -- cascade: a failed conversion deletes its draft variants' jobs (as job_hand_back's rows go with them)
    job_id     BIGINT      NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    attempt    INTEGER     NOT NULL CHECK (attempt > 0),
    agent_id   UUID        NOT NULL REFERENCES agent (id),
    lease_id   UUID        NOT NULL,
    expired_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, attempt)
);
