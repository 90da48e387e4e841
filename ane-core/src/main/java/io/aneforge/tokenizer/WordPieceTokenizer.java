package io.aneforge.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Pure-Java BERT tokenization, mirroring Hugging Face tokenizers step by step:
 * BertNormalizer (clean text, pad CJK ideographs, strip accents, lowercase), BertPreTokenizer
 * (split on whitespace, isolate punctuation), WordPiece (greedy longest match with {@code ##}
 * continuations; a word that cannot be covered, or is longer than
 * {@code max_input_chars_per_word}, becomes the unknown token), then the template's specials (of one text or a
 * pair, {@link PostProcessor}).
 */
final class WordPieceTokenizer extends TemplateFramedTokenizer {
    private final int maxTokenId;
    private final Map<String, Integer> vocab;
    private final int unkId;
    private final String prefix;
    private final int maxCharsPerWord;
    private final boolean cleanText;
    private final boolean chineseChars;
    private final boolean stripAccents;
    private final boolean lowercase;
    private final AddedTokens added;

    WordPieceTokenizer(TokenizerJson json) throws TokenizerException {
        super(json);
        JdkUnicode.warnOnce();
        this.maxTokenId = json.maxId();
        this.vocab = json.vocab();
        // normalized tokens are matched in the raw text, as before: BERT files mark theirs normalized false
        this.added = new AddedTokens(json.file(), json.root().path("added_tokens"), false);
        JsonNode model = json.root().get("model");
        String unk = model.path("unk_token").asString("[UNK]");
        if (!vocab.containsKey(unk)) {
            throw new TokenizerException(json.file(), "unk_token '" + unk + "' is not in the vocab");
        }
        this.unkId = vocab.get(unk);
        this.prefix = model.path("continuing_subword_prefix").asString("##");
        this.maxCharsPerWord = model.path("max_input_chars_per_word").asInt(100);
        JsonNode norm = json.root().path("normalizer");
        String normType = norm.path("type").asString("");
        if (!normType.isEmpty() && !normType.equals("BertNormalizer")) {
            throw new TokenizerException(json.file(), "normalizer '" + normType
                    + "' is not supported by the Java WordPiece tokenizer (supported: BertNormalizer)");
        }
        String pre = json.root().path("pre_tokenizer").path("type").asString("");
        if (!pre.isEmpty() && !pre.equals("BertPreTokenizer")) {
            throw new TokenizerException(json.file(), "pre_tokenizer '" + pre
                    + "' is not supported by the Java WordPiece tokenizer (supported: BertPreTokenizer)");
        }
        boolean bert = normType.equals("BertNormalizer");
        this.cleanText = bert && norm.path("clean_text").asBoolean(true);
        this.chineseChars = bert && norm.path("handle_chinese_chars").asBoolean(true);
        this.lowercase = bert && norm.path("lowercase").asBoolean(true);
        JsonNode strip = norm.path("strip_accents");
        this.stripAccents = bert && (strip.isBoolean() ? strip.booleanValue() : lowercase);
    }

    @Override
    List<Integer> content(String text) {
        List<Integer> content = new ArrayList<>();
        added.split(text, segment -> {
            for (String word : preTokenize(normalize(segment))) {
                wordPiece(word, content);
            }
        }, content::add);
        return content;
    }

    /**
     * BertNormalizer: each rule per code point as the native tokenizer has it ({@link BertCharacters}: Unicode 8.0
     * controls, the native CJK ranges, Unicode 17.0 lowercase), accents stripped after Unicode 9.0's NFD.
     */
    String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || BertCharacters.isControl(c)) {
                    continue;
                }
                if (isWhitespace(c)) {
                    sb.append(' ');
                    continue;
                }
            }
            if (chineseChars && BertCharacters.isChinese(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
            } else {
                sb.appendCodePoint(c);
            }
        }
        String s = sb.toString();
        if (stripAccents) {
            StringBuilder out = new StringBuilder(s.length());
            NormalForms.normalize(s, Normalizer.Form.NFD).codePoints()
                    .filter(c -> !isStrippedMark(c))
                    .forEach(out::appendCodePoint);
            s = out.toString();
        }
        if (lowercase) {
            StringBuilder out = new StringBuilder(s.length() + 1);
            for (int i = 0; i < s.length(); ) {
                int c = s.codePointAt(i);
                i += Character.charCount(c);
                BertCharacters.appendLowercase(out, c);
            }
            s = out.toString();
        }
        return s;
    }

    /**
     * Java 17's nonspacing marks (general category Mn, Unicode 13.0) that the native {@code BertNormalizer} keeps when
     * it strips accents: it tests Mn with the unicode_categories crate, whose tables are Unicode 8.0's, so the marks
     * assigned in 9.0-13.0 are no marks to it, nor U+1885, U+1886, U+A9BD and U+111C9, which were not Mn in 8.0 (the
     * native tokenizer keeps them). Pairs of first and last code points, in order, generated by
     * {@code StripAccentsTest.tableSource} from ICU4J 76 and Java; checked against the native tokenizer.
     */
    static final int[] MARKS_AFTER_UNICODE_8 = {
        0x07FD, 0x07FD, 0x08D3, 0x08E1, 0x09FE, 0x09FE, 0x0AFA, 0x0AFF, 0x0B55, 0x0B55, 0x0C04, 0x0C04, 0x0D00, 0x0D00,
        0x0D3B, 0x0D3C, 0x0D81, 0x0D81, 0x0EBA, 0x0EBA, 0x1885, 0x1886, 0x1ABF, 0x1AC0, 0x1DF6, 0x1DF9, 0x1DFB, 0x1DFB,
        0xA82C, 0xA82C, 0xA8C5, 0xA8C5, 0xA8FF, 0xA8FF, 0xA9BD, 0xA9BD, 0x10D24, 0x10D27, 0x10EAB, 0x10EAC,
        0x10F46, 0x10F50, 0x111C9, 0x111C9, 0x111CF, 0x111CF, 0x1123E, 0x1123E, 0x1133B, 0x1133B, 0x11438, 0x1143F,
        0x11442, 0x11444, 0x11446, 0x11446, 0x1145E, 0x1145E, 0x1182F, 0x11837, 0x11839, 0x1183A, 0x1193B, 0x1193C,
        0x1193E, 0x1193E, 0x11943, 0x11943, 0x119D4, 0x119D7, 0x119DA, 0x119DB, 0x119E0, 0x119E0, 0x11A01, 0x11A0A,
        0x11A33, 0x11A38, 0x11A3B, 0x11A3E, 0x11A47, 0x11A47, 0x11A51, 0x11A56, 0x11A59, 0x11A5B, 0x11A8A, 0x11A96,
        0x11A98, 0x11A99, 0x11C30, 0x11C36, 0x11C38, 0x11C3D, 0x11C3F, 0x11C3F, 0x11C92, 0x11CA7, 0x11CAA, 0x11CB0,
        0x11CB2, 0x11CB3, 0x11CB5, 0x11CB6, 0x11D31, 0x11D36, 0x11D3A, 0x11D3A, 0x11D3C, 0x11D3D, 0x11D3F, 0x11D45,
        0x11D47, 0x11D47, 0x11D90, 0x11D91, 0x11D95, 0x11D95, 0x11D97, 0x11D97, 0x11EF3, 0x11EF4, 0x16F4F, 0x16F4F,
        0x16FE4, 0x16FE4, 0x1E000, 0x1E006, 0x1E008, 0x1E018, 0x1E01B, 0x1E021, 0x1E023, 0x1E024, 0x1E026, 0x1E02A,
        0x1E130, 0x1E136, 0x1E2EC, 0x1E2EF, 0x1E944, 0x1E94A,
    };

    /**
     * What {@code strip_accents} drops after NFD (Unicode 9.0's, {@link NormalForms}): a nonspacing mark as the native
     * tokenizer's Unicode 8.0 tables have it.
     */
    static boolean isStrippedMark(int c) {
        if (Character.getType(c) != Character.NON_SPACING_MARK) {
            return false;
        }
        int lo = 0;
        int hi = MARKS_AFTER_UNICODE_8.length / 2 - 1;
        while (lo <= hi) { // the last range whose first code point is at most c
            int mid = (lo + hi) >>> 1;
            if (MARKS_AFTER_UNICODE_8[2 * mid] <= c) {
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return hi < 0 || c > MARKS_AFTER_UNICODE_8[2 * hi + 1];
    }

    /** BertPreTokenizer: words split at whitespace, each punctuation code point ({@link BertCharacters}) a word. */
    static List<String> preTokenize(String s) {
        List<String> words = new ArrayList<>();
        int start = 0; // where the current word starts
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int next = i + Character.charCount(c);
            if (isWhitespace(c)) {
                flush(words, s, start, i);
                start = next;
            } else if (BertCharacters.isPunctuation(c)) {
                flush(words, s, start, i);
                words.add(s.substring(i, next));
                start = next;
            }
            i = next;
        }
        flush(words, s, start, s.length());
        return words;
    }

    private static void flush(List<String> words, String s, int start, int end) {
        if (end > start) {
            words.add(s.substring(start, end));
        }
    }

    private void wordPiece(String word, List<Integer> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > maxCharsPerWord) {
            out.add(unkId);
            return;
        }
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < cps.length) {
            int end = cps.length;
            Integer found = null;
            while (start < end) {
                String sub = new String(cps, start, end - start);
                if (start > 0) {
                    sub = prefix + sub;
                }
                found = vocab.get(sub);
                if (found != null) {
                    break;
                }
                end--;
            }
            if (found == null) {
                out.add(unkId);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    /** Rust's char::is_whitespace (Unicode White_Space) plus tab, newline, carriage return. */
    static boolean isWhitespace(int c) {
        if (c == '\t' || c == '\n' || c == '\r' || c == ' ') {
            return true;
        }
        return c == 0x0B || c == 0x0C || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A)
                || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    @Override
    public int maxTokenId() {
        return maxTokenId;
    }

    @Override
    public String implementation() {
        return "java WordPiece";
    }
}
