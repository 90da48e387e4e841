package io.aneforge.tokenizer;

/**
 * Token ids padded to the requested length, with the attention mask (1 = real token, 0 = padding).
 *
 * @param length the number of real tokens (special tokens included)
 */
public record Encoding(int[] ids, int[] attentionMask, int length) {
    public Encoding {
        if (ids == null || attentionMask == null || ids.length != attentionMask.length || length < 0
                || length > ids.length) {
            throw new IllegalStateException("ids and attention mask must have the same length");
        }
    }

    /** The real tokens, without padding. */
    public int[] tokens() {
        return java.util.Arrays.copyOf(ids, length);
    }

    static Encoding padded(int[] tokens, int maxLength, int padId) {
        int n = Math.min(tokens.length, maxLength);
        int[] ids = new int[maxLength];
        int[] mask = new int[maxLength];
        java.util.Arrays.fill(ids, padId);
        System.arraycopy(tokens, 0, ids, 0, n);
        java.util.Arrays.fill(mask, 0, n, 1);
        return new Encoding(ids, mask, n);
    }
}
