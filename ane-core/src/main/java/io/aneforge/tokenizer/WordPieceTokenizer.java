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
        JdkUnicode.warnOnce(JdkUnicode.Kind.WORD_PIECE);
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
                    .filter(c -> !BertCharacters.isStrippedMark(c))
                    .forEach(out::appendCodePoint);
            s = out.toString();
        }
        if (lowercase) {
            StringBuilder out = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); ) {
                int c = s.codePointAt(i);
                i += Character.charCount(c);
                BertCharacters.appendLowercase(out, c);
            }
            s = out.toString();
        }
        return s;
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
