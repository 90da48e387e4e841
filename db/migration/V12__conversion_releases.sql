-- Every release (a worker stopping, or one that could not reach the registry) gives the conversion's attempt
-- back. A conversion whose own build gets its worker killed (a liveness probe failing in a GC-heavy build, then
-- SIGTERM) would be released and leased for ever without spending an attempt, so the registry counts the
-- releases of each conversion: past Conversions.FREE_RELEASES a release no longer gives the attempt back.
-- Defaults to 0: rows of earlier versions start counting now, and a previous registry version ignores it.
ALTER TABLE conversion ADD COLUMN releases INT NOT NULL DEFAULT 0;
