-- The conversion options `convert --head` and `--token-types` have on the CLI, for conversions the workers run:
-- head 'convert' (a fine-tuned checkpoint's task head is converted: the packages output its logits), 'none' (the base
-- model's hidden states) or the kind to convert of a checkpoint whose architectures name two (convert --head <kind>); token_types true gives the packages a token_type_ids input (sentence pairs). The defaults are
-- what every conversion queued before did.
ALTER TABLE conversion ADD COLUMN head TEXT NOT NULL DEFAULT 'convert' CHECK (head IN ('convert', 'none',
    'sequence-classification', 'token-classification', 'question-answering', 'fill-mask'));
ALTER TABLE conversion ADD COLUMN token_types BOOLEAN NOT NULL DEFAULT FALSE;
