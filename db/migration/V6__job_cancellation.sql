-- Jobs of a yanked variant or version are cancelled (issue 6 follow-up): a state of their own, so
-- that QA tells "withdrawn before it ran" from "ran and failed". failure_reason says why.
ALTER TABLE job DROP CONSTRAINT job_state_check;
ALTER TABLE job ADD CONSTRAINT job_state_check
    CHECK (state IN ('pending', 'leased', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE job ADD CONSTRAINT cancellation_explained CHECK (state <> 'cancelled' OR failure_reason IS NOT NULL);
