package io.aneforge.tokenizer;

/**
 * Membership in a table of code point ranges, the form of the tokenizers' Unicode tables ({@link BertCharacters},
 * {@link NormalForms}): an {@code int[]} of first and last code points, pairs in order and apart.
 */
final class CodePointRanges {
    private CodePointRanges() {
    }

    /** Whether {@code c} is in {@code table}: a bounds check, then a binary search. */
    static boolean contains(int[] table, int c) {
        if (c < table[0] || c > table[table.length - 1]) {
            return false;
        }
        int lo = 0;
        int hi = table.length / 2 - 1;
        while (lo <= hi) { // the last range whose first code point is at most c
            int mid = (lo + hi) >>> 1;
            if (table[2 * mid] <= c) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi >= 0 && c <= table[2 * hi + 1];
    }
}
