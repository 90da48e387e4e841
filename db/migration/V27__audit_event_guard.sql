-- review-r21: V25's trigger let a DELETE through whenever the transaction-local setting aneforge.audit_prune_before
-- said so, and any session can set it: one set_config and a plain DELETE removed a row written a second ago. The
-- trigger now also refuses to delete a row younger than a day whatever the setting says (the least audit_event_prune
-- keeps), and TRUNCATE, which row triggers never see, is refused by a statement trigger. This still guards against
-- mistakes (an application bug, a hand-typed DELETE), not against the registry's own database role acting on purpose:
-- it can set the same setting for rows older than a day, or drop the triggers (docs/deploy.md, "Logs").

CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
DECLARE
    -- set (transaction-local) by audit_event_prune around its DELETE only; '' or NULL otherwise
    bound TEXT := current_setting('aneforge.audit_prune_before', true);
BEGIN
    IF TG_OP = 'DELETE' AND bound IS NOT NULL AND bound <> '' AND OLD.at < bound::timestamptz
            AND OLD.at < now() - INTERVAL '1 day' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only: rows are removed only by audit_event_prune(keep, batch), the registry''s retention (aneforge.audit.retention)';
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION audit_event_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: TRUNCATE is refused; rows are removed only by audit_event_prune(keep, batch), the registry''s retention (aneforge.audit.retention)';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_no_truncate();
