-- Block-wise weights are quantized either symmetrically (scale only) or affinely (scale + zero point):
-- int8-block32 and int8-block32-affine are different packages with different fidelity, so the mode is
-- part of a variant's identity. V1 stored only precision + block size, so the two collided.
--
-- quantization: 'symmetric' or 'affine' for block-wise int8/int4 (block_size set); NULL for every other
-- precision (fp16, fp32, w8a8, and per-channel int8, whose scheme fixes its mode). Rows registered
-- before this migration were symmetric: clients could not register anything else.
ALTER TABLE variant ADD COLUMN quantization TEXT CHECK (quantization IN ('symmetric', 'affine'));
UPDATE variant SET quantization = 'symmetric' WHERE block_size IS NOT NULL;
ALTER TABLE variant ADD CONSTRAINT variant_quantization_blockwise
    CHECK ((block_size IS NOT NULL) = (quantization IS NOT NULL));

DROP INDEX variant_identity;
-- A variant is identified by these seven facts within a version (CONVERTER.md §4, plus the mode).
CREATE UNIQUE INDEX variant_identity ON variant
    (version_id, chip, deployment_target, layout, precision, COALESCE(block_size, 0), COALESCE(quantization, ''), seq_len);
