-- Accuracy jobs can be queued again for a version (POST .../accuracy-runs): results reported before the agents
-- compared real tokens only counted padding, and stay as history, so a re-run is a new job, not a reset one.
-- run numbers the jobs of one identity (variant, kind, runtime, compute units): 1 for the job queued when the
-- variant was registered, then 2, 3, ... per re-run; the identity stays unique per run.
ALTER TABLE job ADD COLUMN run INTEGER NOT NULL DEFAULT 1 CHECK (run > 0);
DROP INDEX job_identity;
CREATE UNIQUE INDEX job_identity ON job (variant_id, kind, runtime, compute_units, run);
