-- int4 block-wise variants may keep their FFN input projections (BERT intermediate.dense, DistilBERT ffn.lin1,
-- GPT-2 mlp.c_fc) at int8 block-wise, with the same block size, mode and scale fit (precision suffix -ffn8,
-- ane-core Precision.ffn8). Other ops mix (int8 and int4 constexpr_blockwise_shift_scale), other bytes (about
-- 13 % more than plain int4 on all-MiniLM-L6-v2) and other fidelity (see docs/converter.md), so
-- int4-block32-affine and int4-block32-affine-ffn8 are different variants.
--
-- Like the clip search (V7), the override is part of how the block-wise weights are quantized: quantization
-- gains the four int4 modes with '-ffn8'. The precision column keeps the coarse name of the bulk of the
-- weights (int4), so clients that filter or order on precision see these variants as int4, which they are
-- apart from the FFN inputs. The identity index (V5) already includes quantization; existing rows are
-- unchanged and stay valid.
ALTER TABLE variant DROP CONSTRAINT variant_quantization_check;
ALTER TABLE variant ADD CONSTRAINT variant_quantization_check
    CHECK (quantization IN ('symmetric', 'affine', 'symmetric-mse', 'affine-mse',
                            'symmetric-ffn8', 'affine-ffn8', 'symmetric-mse-ffn8', 'affine-mse-ffn8'));
-- int8 block-wise variants have their FFN inputs at int8 already: -ffn8 means something only for int4.
ALTER TABLE variant ADD CONSTRAINT variant_quantization_ffn8_int4
    CHECK (quantization NOT LIKE '%-ffn8' OR precision = 'int4');
