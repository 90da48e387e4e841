package io.aneforge.tokenizer;

/**
 * Token ids padded to the requested length, with the attention mask (1 = real token, 0 = padding) and the
 * segment of each token (token type ids: 0 for a single text and the first text of a pair, 1 for the second).
 *
 * @param length the number of real tokens (special tokens included)
 */
public record Encoding(int[] ids, int[] attentionMask, int length, int[] typeIds) {
    public Encoding {
        if (ids == null || attentionMask == null || typeIds == null || ids.length != attentionMask.length
                || typeIds.length != ids.length || length < 0 || length > ids.length) {
            throw new IllegalStateException("ids, attention mask and type ids must have the same length");
        }
    }

    /** One text: every token is segment 0. */
    public Encoding(int[] ids, int[] attentionMask, int length) {
        this(ids, attentionMask, length, new int[ids.length]);
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

    /** Like {@link #padded(int[], int, int)}, with each token's segment (padding is segment 0). */
    static Encoding padded(int[] tokens, int[] types, int maxLength, int padId) {
        Encoding e = padded(tokens, maxLength, padId);
        int[] t = new int[maxLength];
        System.arraycopy(types, 0, t, 0, e.length());
        return new Encoding(e.ids(), e.attentionMask(), e.length(), t);
    }
}
