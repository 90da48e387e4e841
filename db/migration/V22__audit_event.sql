-- The audit trail as rows (README "Not done yet": the aneforge.audit log lines were the only record): one row per
-- security-relevant write that succeeded, inserted in the write's own transaction, so a row exists exactly when
-- the change committed. Refused writes (403, 409, ...) leave none. model/version/variant are copied as plain
-- values, not references: a row outlives what it names and is read by name (GET /api/v1/audit?model=).
-- Append-only like alias_history and model_gates_history: the application only inserts.
CREATE TABLE audit_event (
    id             BIGSERIAL   PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- the acting token; NULL id: the bootstrap admin token (aneforge.admin-token), which has no row
    actor_token_id BIGINT,
    actor_name     TEXT        NOT NULL,
    actor_role     TEXT        NOT NULL,
    action         TEXT        NOT NULL,
    model          TEXT,
    version        INT,
    variant        BIGINT,
    detail         JSONB       NOT NULL DEFAULT '{}',
    request_id     TEXT
);
CREATE INDEX audit_event_by_model ON audit_event (model, id);
CREATE INDEX audit_event_by_action ON audit_event (action, id);
CREATE INDEX audit_event_by_at ON audit_event (at);

CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_event_no_rewrite BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
