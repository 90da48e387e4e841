-- W8A8 variants quantize their activations either symmetrically (a scale per quantize/dequantize pair, coremltools'
-- linear_symmetric) or affinely (a scale and an int8 zero point, coremltools' linear): w8a8 and w8a8-affine are
-- different packages with different fidelity (all-MiniLM-L6-v2, 32 sentences: mean token cosine 0.9724 vs 0.9896,
-- docs/converter.md "W8A8"), so the activation mode is part of a variant's identity. Until now only block-wise rows
-- could carry a quantization (V5's variant_quantization_blockwise), so w8a8-affine could not be stored apart from w8a8.
--
-- A w8a8 row may now have quantization 'affine' without a block size: that is w8a8-affine (ane-core
-- Precision.ofRegistry). NULL stays the symmetric activations, as every w8a8 row registered before this migration
-- was (clients could not register anything else), so existing rows are unchanged and stay valid. No other value is
-- allowed without a block size, and the weights of both modes stay per-channel symmetric int8, so no other column
-- changes. The identity index (V5) already includes COALESCE(quantization, ''): the two modes are distinct variants.
ALTER TABLE variant DROP CONSTRAINT variant_quantization_blockwise;
ALTER TABLE variant ADD CONSTRAINT variant_quantization_blockwise
    CHECK ((block_size IS NOT NULL) = (quantization IS NOT NULL)
           OR (precision = 'w8a8' AND block_size IS NULL AND quantization = 'affine'));
