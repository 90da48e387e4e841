package io.aneforge.quant;

/**
 * What calibration saw at the input of one weight: the Gram matrix {@code Σ x xᵀ} of its input
 * vectors over the calibration tokens (GPTQ's Hessian up to a factor 2, which it does not depend on).
 *
 * @param features the weight's input size I (the sums are I × I, row-major, symmetric)
 * @param tokens   how many input vectors were summed (0: the weight was never reached)
 * @param sums     {@code sums[a·I + b] = Σ x_a x_b}, summed in double and stored in float (GPTQ's reference
 *                 implementation keeps H in float too): a BERT-base conversion holds 12 layers' worth of them
 */
public record InputGram(int features, long tokens, float[] sums) {
    public InputGram {
        if (features <= 0 || tokens < 0 || sums == null || sums.length != (long) features * features) {
            throw new IllegalArgumentException("an input Gram matrix needs features > 0, tokens >= 0 and features² sums, got "
                    + features + ", " + tokens + ", " + (sums == null ? "null" : sums.length + " sums"));
        }
    }
}
