-- Aliases can be deleted (review-d #14): the removal is appended to the history as a row with no target,
-- so the history keeps who removed which alias from which version, when and why.
ALTER TABLE alias_history ALTER COLUMN to_version DROP NOT NULL;
