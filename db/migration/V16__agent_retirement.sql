-- Retiring an agent (DELETE /api/v1/agents/{id}, admin): hidden from the agent list and the fleet gauges, kept
-- in the table because its results (job_result.agent_id) and past leases name it: the numbers stay traceable to
-- the host that measured them. An agent heard from again (it registers or calls as itself) is no longer retired.
ALTER TABLE agent ADD COLUMN retired_at TIMESTAMPTZ;
ALTER TABLE agent ADD COLUMN retired_by TEXT;
ALTER TABLE agent ADD CONSTRAINT retirement_complete CHECK ((retired_at IS NULL) = (retired_by IS NULL));
