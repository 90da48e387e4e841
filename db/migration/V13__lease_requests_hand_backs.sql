-- Leases that a client could not read, and hand-back bounds the registry keeps (not the agent's memory).

-- The request a lease was granted for: a random id the agent (query parameter `request`) or the worker (body
-- field `request`) sends with its lease call. When the answer cannot be read at all (a proxy's HTML page, a body
-- cut short), the client still knows the id and releases "the lease granted for my request" instead of letting
-- it expire, which would spend an attempt. Null for clients that send none.
ALTER TABLE job ADD COLUMN lease_request UUID;
ALTER TABLE conversion ADD COLUMN lease_request UUID;

-- How often an agent handed a job back because of trouble that was not the job's own (a transfer or host
-- problem, a lease answer it could not read). Releases spend no attempt, so without a bound a permanent problem
-- would bring the same (oldest) job back to the same agent for ever; past aneforge.jobs.max-hand-backs the
-- registry fails the job instead. Kept here, per job and agent, so an agent restart does not start the count over.
CREATE TABLE job_hand_back (
    job_id     BIGINT  NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    agent_id   UUID    NOT NULL REFERENCES agent (id) ON DELETE CASCADE,
    hand_backs INTEGER NOT NULL CHECK (hand_backs > 0),
    PRIMARY KEY (job_id, agent_id)
);
