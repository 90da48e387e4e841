package io.aneforge.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.ibm.icu.text.UnicodeSet;
import java.util.ArrayList;
import java.util.List;

/** What the tokenizer tests of Unicode tables share: reading and printing range tables, and readable code points. */
final class CodePoints {
    private CodePoints() {
    }

    /** A table of first and last code points as a set, asserting its ranges are in order and apart. */
    static UnicodeSet listed(int[] table) {
        UnicodeSet listed = new UnicodeSet();
        for (int r = 0; r < table.length; r += 2) {
            assertThat(table[r]).as("range %d in order", r / 2).isLessThanOrEqualTo(table[r + 1]);
            assertThat(r == 0 || table[r] > table[r - 1] + 1).as("range %d after the previous one, apart", r / 2)
                    .isTrue();
            listed.add(table[r], table[r + 1]);
        }
        return listed;
    }

    /** A set's ranges as U+XXXX..U+YYYY, for comparing a table with its source in a readable failure. */
    static List<String> ranges(UnicodeSet set) {
        List<String> out = new ArrayList<>();
        for (int r = 0; r < set.getRangeCount(); r++) {
            out.add(String.format("U+%04X..U+%04X", set.getRangeStart(r), set.getRangeEnd(r)));
        }
        return out;
    }

    /** A table's Java source: pairs of first and last code points, 120 columns. */
    static String rangesSource(UnicodeSet set) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder("       ");
        for (int r = 0; r < set.getRangeCount(); r++) {
            String pair = String.format(" 0x%04X, 0x%04X,", set.getRangeStart(r), set.getRangeEnd(r));
            if (line.length() + pair.length() > 120) {
                out.append(line).append(System.lineSeparator());
                line = new StringBuilder("       ");
            }
            line.append(pair);
        }
        return out.append(line).append(System.lineSeparator()).toString();
    }

    /** {@code text} with each code point but printable ASCII as {@code <U+XXXX>}. */
    static String escape(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> out.append(c >= 0x20 && c < 0x7F ? String.valueOf((char) c)
                : String.format("<U+%04X>", c)));
        return out.toString();
    }
}
