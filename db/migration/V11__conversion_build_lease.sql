-- A worker retries a progress report whose answer it did not get (a reset connection, a proxy's 503): the
-- registry may already have applied it. 'building' counts a build, so it remembers the lease that counted it
-- and a repeat under the same lease counts nothing. Nullable: rows and registries of earlier versions keep
-- working (a previous registry version simply ignores the column during a rolling update).
ALTER TABLE conversion_variant ADD COLUMN build_lease TEXT;
