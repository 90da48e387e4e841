package io.aneforge.tokenizer;

import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import tools.jackson.databind.JsonNode;

/**
 * A tokenizer.json {@code normalizer} for the SentencePiece (Unigram) tokenizer, run on each text between added tokens
 * as Hugging Face's tokenizers do. XLM-RoBERTa's and CamemBERT's files (transformers' {@code SpmConverter}) hold
 * {@code Sequence[Precompiled, Replace(Regex " {2,}", " ")]}; besides those: {@code Strip}, {@code Prepend},
 * {@code Lowercase} and the Unicode forms {@code NFC}, {@code NFD}, {@code NFKC}, {@code NFKD} (Unicode 9.0's, as the
 * native tokenizer's: {@link NormalForms}). Any other normalizer is refused naming the supported ones.
 */
@FunctionalInterface
interface TextNormalizer {
    TextNormalizer NONE = text -> text;

    String normalize(String text);

    static TextNormalizer parse(Path file, JsonNode normalizer) throws TokenizerException {
        if (normalizer.isMissingNode() || normalizer.isNull()) {
            return NONE;
        }
        String type = normalizer.path("type").asString("");
        switch (type) {
            case "Sequence" -> {
                JsonNode members = normalizer.path("normalizers");
                if (!members.isArray()) {
                    throw new TokenizerException(file, "normalizer Sequence has no 'normalizers' array");
                }
                List<TextNormalizer> steps = new ArrayList<>();
                for (JsonNode member : members) {
                    steps.add(parse(file, member));
                }
                return text -> {
                    for (TextNormalizer step : steps) {
                        text = step.normalize(text);
                    }
                    return text;
                };
            }
            case "Precompiled" -> {
                JsonNode charsmap = normalizer.path("precompiled_charsmap");
                if (!charsmap.isString()) {
                    throw new TokenizerException(file, "normalizer Precompiled has no 'precompiled_charsmap' string");
                }
                return PrecompiledCharsmap.decode(file, charsmap.asString())::normalize;
            }
            case "Replace" -> {
                return replace(file, normalizer);
            }
            case "Strip" -> {
                boolean left = normalizer.path("strip_left").asBoolean(false);
                boolean right = normalizer.path("strip_right").asBoolean(false);
                return text -> strip(text, left, right);
            }
            case "Prepend" -> {
                String prefix = normalizer.path("prepend").asString("");
                return text -> text.isEmpty() ? text : prefix + text;
            }
            case "Lowercase" -> {
                return TextNormalizer::lowercase;
            }
            case "NFC" -> {
                return text -> NormalForms.normalize(text, Normalizer.Form.NFC);
            }
            case "NFD" -> {
                return text -> NormalForms.normalize(text, Normalizer.Form.NFD);
            }
            case "NFKC" -> {
                return text -> NormalForms.normalize(text, Normalizer.Form.NFKC);
            }
            case "NFKD" -> {
                return text -> NormalForms.normalize(text, Normalizer.Form.NFKD);
            }
            default -> throw new TokenizerException(file, "normalizer '" + type + "' is not supported by the Java"
                    + " Unigram tokenizer (supported: Precompiled, Replace, Strip, Prepend, Lowercase, NFC, NFD, NFKC,"
                    + " NFKD and a Sequence of them); use the native tokenizer (-D" + Tokenizer.IMPLEMENTATION_PROPERTY
                    + "=native)");
        }
    }

    /**
     * {@code Replace}: every non-overlapping match of the pattern, leftmost first, becomes the content. A
     * {@code String} pattern is literal; a {@code Regex} one is compiled by Java, where Rust uses Oniguruma with Ruby
     * syntax, so Java is told Ruby's meanings: {@code ^} and {@code $} match at every line ({@code MULTILINE}), only
     * {@code \n} ends a line for them and for {@code .} ({@code UNIX_LINES}), and {@code \s \d} and case-folding are
     * Unicode's ({@code UNICODE_CHARACTER_CLASS}). What means something else in the two is refused (see
     * {@link #onigurumaOnly}). The patterns SentencePiece converters write ({@code " {2,}"}) mean the same in both.
     */
    private static TextNormalizer replace(Path file, JsonNode normalizer) throws TokenizerException {
        JsonNode pattern = normalizer.path("pattern");
        JsonNode content = normalizer.path("content");
        if (!content.isString()) {
            throw new TokenizerException(file, "normalizer Replace has no 'content' string");
        }
        String replacement = Matcher.quoteReplacement(content.asString());
        Pattern compiled;
        if (pattern.path("String").isString()) {
            String literal = pattern.path("String").asString();
            if (literal.isEmpty()) {
                return NONE; // Rust: an empty pattern matches nothing
            }
            compiled = Pattern.compile(Pattern.quote(literal));
        } else if (pattern.path("Regex").isString()) {
            String regex = pattern.path("Regex").asString();
            String different = onigurumaOnly(regex);
            if (different != null) {
                throw new TokenizerException(file, "normalizer Replace's regex " + pattern.path("Regex") + " uses "
                        + different + ", which Oniguruma (Hugging Face's regex engine) reads differently from Java; use"
                        + " the native tokenizer (-D" + Tokenizer.IMPLEMENTATION_PROPERTY + "=native)");
            }
            try {
                compiled = Pattern.compile(regex, Pattern.MULTILINE | Pattern.UNIX_LINES
                        | Pattern.UNICODE_CHARACTER_CLASS);
            } catch (PatternSyntaxException e) {
                throw new TokenizerException(file, "normalizer Replace's regex " + pattern.path("Regex")
                        + " does not compile in Java: " + e.getDescription());
            }
        } else {
            throw new TokenizerException(file, "normalizer Replace's pattern must be {\"String\": ...} or"
                    + " {\"Regex\": ...}: " + pattern);
        }
        return text -> compiled.matcher(text).replaceAll(replacement);
    }

    /**
     * The first construct of {@code regex} that Oniguruma's Ruby syntax and Java both accept with different meanings,
     * or null: {@code \h}/{@code \H} (a hex digit in Ruby, horizontal space in Java), {@code \v}/{@code \V}
     * (vertical tab / vertical space), {@code \w \W \b \B} (Oniguruma's word characters include every Number,
     * such as ³, Java's only digits), {@code \Q...\E} (no quoting in Ruby), {@code \N}, an inline option other than
     * {@code i} and {@code x} ({@code (?m)} is Java's {@code (?s)} in Ruby), and a POSIX bracket {@code [:alpha:]}
     * (a class in Ruby, its letters in Java). Constructs only one of them accepts fail to compile in Java or natively.
     */
    static String onigurumaOnly(String regex) {
        for (int i = 0; i < regex.length(); i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < regex.length()) {
                char escaped = regex.charAt(++i);
                if ("hHvVQENwWbB".indexOf(escaped) >= 0) {
                    return "\\" + escaped;
                }
            } else if (c == '[' && i + 1 < regex.length() && regex.charAt(i + 1) == ':') {
                return "a POSIX bracket '[:'";
            } else if (c == '(' && regex.startsWith("?", i + 1)) {
                int j = i + 2;
                while (j < regex.length() && (Character.isLetter(regex.charAt(j)) || regex.charAt(j) == '-')) {
                    if ("ix-".indexOf(regex.charAt(j)) < 0) {
                        return "the inline option '" + regex.charAt(j) + "'";
                    }
                    j++;
                }
            }
        }
        return null;
    }

    /** Strips Rust's {@code char::is_whitespace} characters from either end. */
    private static String strip(String text, boolean left, boolean right) {
        int start = 0;
        int end = text.length();
        if (left) {
            while (start < end && WordPieceTokenizer.isWhitespace(text.codePointAt(start))) {
                start += Character.charCount(text.codePointAt(start));
            }
        }
        if (right) {
            while (end > start && WordPieceTokenizer.isWhitespace(text.codePointBefore(end))) {
                end -= Character.charCount(text.codePointBefore(end));
            }
        }
        return text.substring(start, end);
    }

    /** Rust's {@code char::to_lowercase}, character by character (full mappings, no final-sigma context). */
    private static String lowercase(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> out.append(new String(Character.toChars(c)).toLowerCase(Locale.ROOT)));
        return out.toString();
    }
}
