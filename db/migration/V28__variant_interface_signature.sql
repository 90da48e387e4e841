-- The inputs and outputs (names and element types) of a variant's package, read from its model.mlmodel at
-- registration: every variant of a version must have the same, so that an app resolving the version codes against one
-- interface on every device (review-s21: a task head's package beside a --head none one, or one with token_type_ids
-- beside one without, broke it on some devices only). Variants registered before are not compared (NULL).
ALTER TABLE variant ADD COLUMN interface_signature TEXT;
