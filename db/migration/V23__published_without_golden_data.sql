-- A version is published only with its golden data (the inputs and FP32 outputs every accuracy and benchmark job
-- runs), unless its publisher opts out explicitly ("withoutGoldenData": true with a reason, review-d): then who and
-- why are kept here, its jobs (which could never run) are cancelled, and the matrix and verdict say accuracy was not
-- checked instead of waiting forever.
ALTER TABLE model_version ADD COLUMN published_without_golden_by     TEXT;
ALTER TABLE model_version ADD COLUMN published_without_golden_reason TEXT;
ALTER TABLE model_version ADD CONSTRAINT without_golden_complete
    CHECK ((published_without_golden_by IS NULL) = (published_without_golden_reason IS NULL));

-- Versions published before this rule without golden data: recorded as such, and their jobs, which wait for golden
-- data a published version can no longer take, are cancelled with the same text a new opt-out gets.
UPDATE model_version SET published_without_golden_by = 'unknown (published before V23)',
       published_without_golden_reason = 'published before the registry refused versions without golden data'
 WHERE status = 'published' AND (golden_digest IS NULL OR golden_inputs_digest IS NULL);
UPDATE job j SET state = 'cancelled', finished_at = now(), lease_id = NULL, lease_expires_at = NULL,
       failure_reason = 'published without golden data: ' || CASE WHEN j.kind = 'accuracy' THEN 'accuracy not checked'
                        ELSE 'not benchmarked (benchmarks run the golden inputs)' END
                        || ' (by ' || mv.published_without_golden_by || ': ' || mv.published_without_golden_reason || ')'
  FROM variant v JOIN model_version mv ON mv.id = v.version_id
 WHERE v.id = j.variant_id AND mv.published_without_golden_by IS NOT NULL AND j.state IN ('pending', 'leased');
