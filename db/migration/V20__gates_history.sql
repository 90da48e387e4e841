-- Every change of a model's release gates (review-d #18): who, when, the gates before (null: the model had none)
-- and after, and whether the change loosened a limit (which needs an admin, like a gate override).
-- Append-only like alias_history: the application only inserts; the trigger refuses updates and deletes.
CREATE TABLE model_gates_history (
    id           BIGSERIAL PRIMARY KEY,
    model_id     BIGINT      NOT NULL REFERENCES model (id),
    gates_before JSONB,
    gates_after  JSONB       NOT NULL,
    loosened     TEXT[]      NOT NULL,
    changed_by   TEXT        NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX model_gates_history_lookup ON model_gates_history (model_id, id);

CREATE FUNCTION model_gates_history_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'model_gates_history is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER model_gates_history_no_rewrite BEFORE UPDATE OR DELETE ON model_gates_history
    FOR EACH ROW EXECUTE FUNCTION model_gates_history_append_only();
