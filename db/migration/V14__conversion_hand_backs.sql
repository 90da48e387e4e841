-- How often a worker handed a conversion back because of trouble that was not the conversion's own (the registry
-- unreachable through its retries, the worker unable to run the job, a lease answer it could not read or lost in
-- transport). Releases give the attempt back (the first aneforge.conversions.free-releases of them), so without a
-- bound a worker that can never get through one call would bring the same conversion back for ever; past
-- aneforge.conversions.max-hand-backs the registry fails the conversion instead. Kept here, per conversion and
-- worker id, so a worker restart does not start the count over (the worker counted in its memory before). A
-- stopping worker's release is not counted. A previous registry version ignores this table.
CREATE TABLE conversion_hand_back (
    conversion_id BIGINT  NOT NULL REFERENCES conversion (id) ON DELETE CASCADE,
    worker        TEXT    NOT NULL,
    hand_backs    INTEGER NOT NULL CHECK (hand_backs > 0),
    PRIMARY KEY (conversion_id, worker)
);
