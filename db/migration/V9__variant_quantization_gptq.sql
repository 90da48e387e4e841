-- Block-wise weights may also be quantized with GPTQ (precision suffix -gptq, ane-core QuantSpec.ScaleFit.GPTQ):
-- each input column is rounded in turn and its error moved onto the columns not yet rounded, using the second
-- moments of the weight's inputs on fixed calibration texts. Same ops, same sizes, other bytes and other fidelity
-- (all-MiniLM-L6-v2 int4-block32-affine: 0.971 -> 0.982 mean token cosine, docs/converter.md, "GPTQ"), so
-- int4-block32-affine and int4-block32-affine-gptq are different variants. Like the clip search (V7), GPTQ is part
-- of how the block-wise weights are quantized, in place of -mse: quantization gains 'symmetric-gptq' and
-- 'affine-gptq', and for int4 both with '-ffn8' (V8). Existing rows are unchanged and stay valid.
ALTER TABLE variant DROP CONSTRAINT variant_quantization_check;
ALTER TABLE variant ADD CONSTRAINT variant_quantization_check
    CHECK (quantization IN ('symmetric', 'affine', 'symmetric-mse', 'affine-mse',
                            'symmetric-ffn8', 'affine-ffn8', 'symmetric-mse-ffn8', 'affine-mse-ffn8',
                            'symmetric-gptq', 'affine-gptq', 'symmetric-gptq-ffn8', 'affine-gptq-ffn8'));
