-- Retention of the audit trail (aneforge.audit.retention, off by default): pruning old rows is the one delete of the
-- append-only audit_event (V22). V22's trigger refused every UPDATE and DELETE; it now lets a DELETE through only for
-- a row older than the bound audit_event_prune sets for its own statement, so no other statement (an application bug,
-- a hand-typed DELETE) removes audit rows, and a prune cannot remove rows younger than a day. UPDATE stays refused.
-- This guards against mistakes, not against the table's owner, who can drop the trigger.

CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
DECLARE
    -- set (transaction-local) by audit_event_prune around its DELETE only; '' or NULL otherwise
    bound TEXT := current_setting('aneforge.audit_prune_before', true);
BEGIN
    IF TG_OP = 'DELETE' AND bound IS NOT NULL AND bound <> '' AND OLD.at < bound::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: rows are removed only by audit_event_prune(keep, batch), the registry''s retention (aneforge.audit.retention)';
END;
$$ LANGUAGE plpgsql;

-- Deletes at most `batch` rows older than now() - keep (the database's clock, the one `at` was taken with) and returns
-- how many. Rows locked by a concurrent prune (another registry replica) are skipped, not waited for: replicas need no
-- coordination, and a repeat deletes only what is left.
CREATE FUNCTION audit_event_prune(keep INTERVAL, batch INT) RETURNS INT AS $$
DECLARE
    cutoff TIMESTAMPTZ := now() - keep;
    deleted INT;
BEGIN
    IF keep IS NULL OR keep < INTERVAL '1 day' THEN
        RAISE EXCEPTION 'audit_event_prune: keep must be at least 1 day, got %', keep;
    END IF;
    IF batch IS NULL OR batch < 1 THEN
        RAISE EXCEPTION 'audit_event_prune: batch must be at least 1, got %', batch;
    END IF;
    PERFORM set_config('aneforge.audit_prune_before', cutoff::text, true);
    DELETE FROM audit_event WHERE id IN (
        SELECT id FROM audit_event WHERE at < cutoff ORDER BY id LIMIT batch FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('aneforge.audit_prune_before', '', true);
    RETURN deleted;
END;
$$ LANGUAGE plpgsql;
