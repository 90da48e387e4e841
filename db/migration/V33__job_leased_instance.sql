-- Which agent process holds a lease: agents on one host share one agent id (its host name, which keeps results
-- traceable to the host), so the id alone cannot tell a restarted agent from a second agent process on that host.
-- An agent that says which instance it is (an id kept in its cache directory, held by a file lock while it runs)
-- has its lease calls record it here; when that instance registers again (a restart: it holds no lease then), the
-- jobs still leased to it are handed back at once instead of waiting for the lease to expire. NULL: an agent from
-- before this, or a lease granted before this column existed; such leases expire as before.
ALTER TABLE job ADD COLUMN leased_instance UUID;
CREATE INDEX job_leased_instance ON job (leased_by, leased_instance) WHERE state = 'leased' AND leased_instance IS NOT NULL;
