-- convert --head pre-training (BertForPreTraining: masked LM plus next-sentence prediction, two outputs) for the
-- conversions the workers run: the V30 allow-list of head choices widened by the new kind. Every stored value stays
-- allowed. The constraint keeps the name PostgreSQL gave V30's column check.
ALTER TABLE conversion DROP CONSTRAINT conversion_head_check;
ALTER TABLE conversion ADD CONSTRAINT conversion_head_check CHECK (head IN ('convert', 'none',
    'sequence-classification', 'token-classification', 'question-answering', 'fill-mask', 'pre-training'));
