-- Lease calls released before anything was granted for them, so that a late grant is refused.
--
-- A client whose lease answer was lost releases "the lease granted for my request" (V13). When that release
-- finds nothing (`none`), the call may still be on its way or waiting in a long poll and be granted later; before
-- V15 only the client's second release after its grant window caught that (kept in its memory, so lost in a
-- restart, and too early for a grant later than the window). Now the registry keeps the (queue, owner, request)
-- triple here and a lease call carrying that request grants nothing, on every registry replica.
--
-- queue: 'job' (owner = the agent id) or 'conversion' (owner = the worker id). A request id is random per call, so
-- a row matters only to the one call that carried it; rows are purged a day after the release
-- (ReleasedLeaseRequests.purge, scheduled on every replica, idempotent), far beyond any grant window.
CREATE TABLE released_lease_request (
    request     UUID        NOT NULL,
    queue       TEXT        NOT NULL CHECK (queue IN ('job', 'conversion')),
    owner       TEXT        NOT NULL,
    released_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (request, queue, owner)
);
CREATE INDEX released_lease_request_age ON released_lease_request (released_at);

-- Whether the lease call `request` of `owner` in `queue` was released before a grant; for the lease statement, which
-- must then grant nothing. First takes a shared transaction-level advisory lock on the triple, which the release
-- takes exclusively (lease_request_release_lock) before it looks for the grant: a release waits for a grant that is
-- under way and then finds it; a grant that comes after the release waits for its commit and then sees the row.
-- VOLATILE on purpose: PostgreSQL gives each query in a volatile function a fresh snapshot, so the EXISTS below,
-- taken after the lock, sees a release committed while the lease statement waited (the statement's own snapshot,
-- taken before, would not). No request (an old client) is never released. Costs a lock and one primary-key probe
-- of a small table per lease.
CREATE FUNCTION lease_request_released(p_queue TEXT, p_owner TEXT, p_request UUID) RETURNS BOOLEAN
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF p_request IS NULL OR p_owner IS NULL THEN
        RETURN FALSE;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(hashtext('released_lease_request'),
                                         hashtext(p_queue || '/' || p_owner || '/' || p_request::text));
    RETURN EXISTS (SELECT 1 FROM released_lease_request r
                    WHERE r.request = p_request AND r.queue = p_queue AND r.owner = p_owner);
END
$$;

-- The release's side of the lock above (exclusive, held until the release's transaction ends). Two different triples
-- may hash alike: they then only wait for each other, nothing else.
CREATE FUNCTION lease_request_release_lock(p_queue TEXT, p_owner TEXT, p_request UUID) RETURNS VOID
    LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('released_lease_request'),
                                  hashtext(p_queue || '/' || p_owner || '/' || p_request::text));
END
$$;
