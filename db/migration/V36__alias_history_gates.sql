-- Every alias move records the gates it was checked against, so the alias history alone answers "which limits did
-- version N pass when prod moved to it" (before this, only an overridden move kept its verdict, and the gate
-- history's timestamps had to be matched against the move's).
--
-- gates_in_force is a copy of model_gates.gates as the move read it (the exact JSONB), not a reference to a
-- model_gates_history row: gates set before V20 have no history row to point at, and a copy needs no join and no
-- promise about the other table's retention. It costs the size of the gates document per move.
-- gates_recorded tells "the model had no gates" (true, gates_in_force NULL) from "not recorded" (false): moves made
-- before V36, and by the previous release during a rolling update, which inserts without naming these columns.
--
-- Expand only: both columns have defaults (false, NULL), so the previous release's INSERT and SELECT, which name
-- only the columns they know, keep working. PostgreSQL 11+ adds a column with a constant default without
-- rewriting the table, and ALTER TABLE fires no row trigger (alias_history_no_rewrite stays untouched).
ALTER TABLE alias_history ADD COLUMN gates_recorded BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE alias_history ADD COLUMN gates_in_force JSONB;
--
-- The CHECK is NOT VALID: it holds for every row written from now on, but adding it does not scan the existing rows
-- while holding the ACCESS EXCLUSIVE lock ALTER TABLE takes, which Flyway keeps until the migration commits (every
-- read of the alias history, every move, would wait for a scan of the whole table). The rows it skips all satisfy
-- it anyway: gates_in_force was added NULL just above. VALIDATE CONSTRAINT (a lighter lock, reads and writes go on)
-- is left to a later migration; nothing relies on the constraint being validated meanwhile.
-- No lock_timeout: these statements only wait for transactions already using alias_history to end, and those are
-- short (a history read, a move's insert, which comes after its verdict); failing the migration, and with it the
-- new pod's start, would stall the rollout for a wait that ends by itself.
ALTER TABLE alias_history ADD CONSTRAINT alias_history_gates_recorded CHECK (gates_in_force IS NULL OR gates_recorded)
    NOT VALID;
