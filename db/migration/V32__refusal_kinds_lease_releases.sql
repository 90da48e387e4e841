-- The audit trail's remaining gaps (README "Not done yet", "Audit trail").
--
-- 1. audit_refusal (V29) counted only refused writes (403/409 to a write by a valid token). It now also counts, the
-- same way (one row per hour, key and count, flushed from memory), each told apart by `kind`:
--   refused-write    403/409 to a write (any method but GET, HEAD, OPTIONS) by a valid token (every V29 row)
--   refused-read     403 to a read by a valid token
--   invalid-write    400/422 to a write by a valid token (bad input: nothing was changed)
--   unauthenticated  401 (no token, or one that is unknown or revoked), to any method: no actor (actor_name and
--                    actor_role NULL), and for a bearer token that did not authenticate `token_fingerprint`, the
--                    first 12 hex digits of the presented token's SHA-256 (the hash api_token.token_sha256 stores in
--                    full, so a revoked token's 401s can be matched to its row), never the token. The registry keeps
--                    at most a bounded number of distinct fingerprints per hour and instance; the rest of that hour's
--                    401s count under the fingerprint 'other', so a flood of random tokens adds counts, not rows.
ALTER TABLE audit_refusal ADD COLUMN kind TEXT NOT NULL DEFAULT 'refused-write'
    CHECK (kind IN ('refused-write', 'refused-read', 'invalid-write', 'unauthenticated'));
ALTER TABLE audit_refusal ADD COLUMN token_fingerprint TEXT;
ALTER TABLE audit_refusal ALTER COLUMN actor_name DROP NOT NULL;
ALTER TABLE audit_refusal ALTER COLUMN actor_role DROP NOT NULL;
ALTER TABLE audit_refusal ADD CONSTRAINT audit_refusal_actor CHECK (
    CASE WHEN kind = 'unauthenticated' THEN actor_name IS NULL AND actor_role IS NULL AND actor_token_id IS NULL
         ELSE actor_name IS NOT NULL AND actor_role IS NOT NULL AND token_fingerprint IS NULL END);
DROP INDEX audit_refusal_bucket;
CREATE UNIQUE INDEX audit_refusal_bucket ON audit_refusal
    (bucket, kind, (COALESCE(actor_token_id, 0)), (COALESCE(actor_name, '')), (COALESCE(token_fingerprint, '')),
     method, route, problem_type, (COALESCE(model, '')));
CREATE INDEX audit_refusal_by_kind ON audit_refusal (kind, id);

-- 2. Who held a job's lease that was handed back (released without spending an attempt: a draining or stopping
-- agent, a transfer or host problem, a lease answer it could not read). job_lease_expiry (V29) keeps the leases
-- that ran out and job_result the reported attempts; a release left nothing. One row per job and agent, counting its
-- releases, with the last one's attempt, lease, time and reason: bounded per job by its agents, and written by the
-- release itself (one upsert per release, which is rarer than a lease; the lease path writes nothing more). Shown in
-- GET .../jobs as releasedLeases. A release that fails the job (past aneforge.jobs.max-hand-backs) is not counted
-- here: it stores that attempt's failed result with the agent.
CREATE TABLE job_lease_release (
    -- cascade: a failed conversion deletes its draft variants' jobs (as job_lease_expiry's rows go with them)
    job_id            BIGINT      NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    agent_id          UUID        NOT NULL REFERENCES agent (id),
    releases          INTEGER     NOT NULL CHECK (releases > 0),
    last_attempt      INTEGER     NOT NULL CHECK (last_attempt > 0),
    last_lease_id     UUID        NOT NULL,
    last_reason       TEXT,
    first_released_at TIMESTAMPTZ NOT NULL,
    last_released_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_id, agent_id)
);
