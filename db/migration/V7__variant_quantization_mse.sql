-- Block-wise weights may also have clip-searched scales (precision suffix -mse, ane-core QuantSpec.ScaleFit.MSE):
-- per block the FP16 scale, and for affine the zero point, with the least squared error, instead of coremltools'
-- range formula. Same ops, same sizes, other bytes and other fidelity (all-MiniLM-L6-v2 int4-block32: see
-- docs/converter.md), so int4-block32 and int4-block32-mse are different variants. The fit is part of how the
-- block-wise weights are quantized: quantization gains 'symmetric-mse' and 'affine-mse'. The identity index
-- (V5) already includes quantization; existing rows are unchanged.
ALTER TABLE variant DROP CONSTRAINT variant_quantization_check;
ALTER TABLE variant ADD CONSTRAINT variant_quantization_check
    CHECK (quantization IN ('symmetric', 'affine', 'symmetric-mse', 'affine-mse'));
