package io.aneforge.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * A SentencePiece tokenizer.json's {@code pre_tokenizer}, as Hugging Face's tokenizers run it on each normalized text
 * between added tokens: {@code Metaspace} (XLM-RoBERTa's, CamemBERT's), {@code WhitespaceSplit}, a {@code Sequence} of
 * them, or none (the whole text is one word). The Unigram model then segments each word alone.
 *
 * <p>{@code Metaspace} replaces each ASCII space with its replacement ({@code ▁}), prepends one to a word that does not
 * start with it ({@code prepend_scheme} {@code always}; {@code first}: only to the text at the very start of the
 * input, not after an added token; {@code never}), and with {@code split} (the default) cuts before each replacement,
 * which starts the next word. Files written before tokenizers 0.19 say {@code add_prefix_space} instead: true is
 * {@code always}, false {@code never}, and false beside a scheme other than {@code never} is refused, as the reference
 * refuses it (its default scheme is {@code always}, so a bare {@code "add_prefix_space": false} is refused too).
 * Empty words are dropped.
 *
 * @param steps each step in order: a Metaspace, or {@link #WHITESPACE_SPLIT}
 */
record MetaspacePreTokenizer(List<Metaspace> steps) {
    /** How a Metaspace prepends its replacement. */
    enum PrependScheme { ALWAYS, FIRST, NEVER }

    /** One Metaspace step. */
    record Metaspace(String replacement, PrependScheme scheme, boolean split) {
    }

    /** The WhitespaceSplit step (told apart by identity: a Metaspace's replacement is never empty). */
    static final Metaspace WHITESPACE_SPLIT = new Metaspace("", PrependScheme.NEVER, false);

    static MetaspacePreTokenizer parse(Path file, JsonNode pre) throws TokenizerException {
        List<Metaspace> steps = new ArrayList<>();
        if (!pre.isMissingNode() && !pre.isNull()) {
            add(file, pre, steps);
        }
        for (int i = 1; i < steps.size(); i++) {
            if (steps.get(i) != WHITESPACE_SPLIT && steps.get(i).scheme() == PrependScheme.FIRST) {
                // Rust asks where the word starts in the original text, which the Java tokenizer does not track
                // through an earlier split (nor through a normalizer that removed leading characters)
                throw new TokenizerException(file, "pre_tokenizer Metaspace with prepend_scheme 'first' after another"
                        + " pre-tokenizer is not supported by the Java tokenizer; use the native tokenizer (-D"
                        + Tokenizer.IMPLEMENTATION_PROPERTY + "=native)");
            }
        }
        return new MetaspacePreTokenizer(List.copyOf(steps));
    }

    private static void add(Path file, JsonNode pre, List<Metaspace> steps) throws TokenizerException {
        String type = pre.path("type").asString("");
        switch (type) {
            case "Metaspace" -> steps.add(metaspace(file, pre));
            case "WhitespaceSplit" -> steps.add(WHITESPACE_SPLIT);
            case "Sequence" -> {
                JsonNode members = pre.path("pretokenizers");
                if (!members.isArray()) {
                    throw new TokenizerException(file, "pre_tokenizer Sequence has no 'pretokenizers' array");
                }
                for (JsonNode member : members) {
                    add(file, member, steps);
                }
            }
            default -> throw new TokenizerException(file, "pre_tokenizer '" + type + "' is not supported by the Java"
                    + " Unigram tokenizer (supported: Metaspace, WhitespaceSplit and a Sequence of them); use the native"
                    + " tokenizer (-D" + Tokenizer.IMPLEMENTATION_PROPERTY + "=native)");
        }
    }

    private static Metaspace metaspace(Path file, JsonNode pre) throws TokenizerException {
        String replacement = pre.path("replacement").asString("");
        if (replacement.codePointCount(0, replacement.length()) != 1) {
            throw new TokenizerException(file, "pre_tokenizer Metaspace's replacement must be one character: '"
                    + replacement + "'");
        }
        JsonNode declared = pre.path("prepend_scheme");
        PrependScheme scheme;
        if (declared.isMissingNode() || declared.isNull()) {
            scheme = PrependScheme.ALWAYS;
        } else {
            scheme = switch (declared.asString("")) {
                case "always" -> PrependScheme.ALWAYS;
                case "first" -> PrependScheme.FIRST;
                case "never" -> PrependScheme.NEVER;
                default -> throw new TokenizerException(file, "pre_tokenizer Metaspace's prepend_scheme " + declared
                        + " is not one Hugging Face's tokenizers know: use always, first or never");
            };
        }
        JsonNode addPrefixSpace = pre.path("add_prefix_space");
        if (addPrefixSpace.isBoolean() && !addPrefixSpace.booleanValue()) {
            if (scheme != PrependScheme.NEVER) {
                throw new TokenizerException(file, "pre_tokenizer Metaspace says add_prefix_space false with"
                        + " prepend_scheme " + scheme.name().toLowerCase(java.util.Locale.ROOT) + " (always when absent),"
                        + " which Hugging Face's tokenizers refuse: remove add_prefix_space or set prepend_scheme"
                        + " 'never'");
            }
        }
        JsonNode split = pre.path("split");
        return new Metaspace(replacement, scheme, !split.isBoolean() || split.booleanValue());
    }

    /**
     * The words of one normalized text. {@code startsInput}: the text begins the input (no added token before it),
     * for {@code prepend_scheme} {@code first}.
     */
    List<String> words(String text, boolean startsInput) {
        List<String> words = new ArrayList<>();
        if (!text.isEmpty()) {
            words.add(text);
        }
        for (Metaspace step : steps) {
            List<String> next = new ArrayList<>();
            for (int i = 0; i < words.size(); i++) {
                if (step == WHITESPACE_SPLIT) {
                    splitOnWhitespace(words.get(i), next);
                } else {
                    // with FIRST, parse() allows no earlier step: the only word is the whole text
                    metaspace(step, words.get(i), startsInput && i == 0, next);
                }
            }
            words = next;
        }
        return words;
    }

    private static void metaspace(Metaspace step, String word, boolean startsInput, List<String> out) {
        String s = word.replace(" ", step.replacement());
        boolean prepend = switch (step.scheme()) {
            case ALWAYS -> true;
            case FIRST -> startsInput;
            case NEVER -> false;
        };
        if (prepend && !s.isEmpty() && !s.startsWith(step.replacement())) {
            s = step.replacement() + s;
        }
        if (!step.split()) {
            if (!s.isEmpty()) {
                out.add(s);
            }
            return;
        }
        // cut before each replacement: it starts the next word (Rust's MergedWithNext)
        int start = 0;
        int from = 0;
        while (true) {
            int at = s.indexOf(step.replacement(), from);
            if (at < 0) {
                break;
            }
            if (at > start) {
                out.add(s.substring(start, at));
                start = at;
            }
            from = at + step.replacement().length();
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
    }

    /** Rust's {@code char::is_whitespace} characters removed, cutting the word there. */
    private static void splitOnWhitespace(String word, List<String> out) {
        int start = 0;
        for (int i = 0; i < word.length(); ) {
            int c = word.codePointAt(i);
            int n = Character.charCount(c);
            if (WordPieceTokenizer.isWhitespace(c)) {
                if (i > start) {
                    out.add(word.substring(start, i));
                }
                start = i + n;
            }
            i += n;
        }
        if (start < word.length()) {
            out.add(word.substring(start));
        }
    }
}
