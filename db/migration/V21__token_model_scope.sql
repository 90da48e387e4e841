-- Per-model publisher tokens (review-d #5): the models a token may write to, each an exact model name or a
-- prefix ending in '*' ('team-a-*'). NULL, which every existing token keeps, means every model.
ALTER TABLE api_token ADD COLUMN models TEXT[];
ALTER TABLE api_token ADD CONSTRAINT api_token_models_not_empty CHECK (models IS NULL OR cardinality(models) > 0);
