package io.aneforge.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A SentencePiece {@code Unigram} model ({@code model.type} "Unigram" of a tokenizer.json): each word's segmentation
 * into vocabulary pieces with the highest summed score (the pieces' log probabilities), by Viterbi over the word's
 * characters, as Hugging Face's tokenizers compute it ({@code models/unigram/model.rs}, {@code encode_optimized}).
 *
 * <p>A character that begins no one-character piece is also an unknown-token candidate scored the vocabulary's lowest
 * score minus 10. Ties keep the first candidate found: candidates are visited by start position, then by length, and
 * only a strictly higher score replaces one. Consecutive unknown characters fuse into one token, which becomes its
 * piece's id if the vocabulary holds that string, else (with {@code byte_fallback}) the {@code <0xXX>} pieces of its
 * UTF-8 bytes when all exist, else {@code unk_id}. A piece listed twice has its last id, as Rust's map keeps.
 */
final class UnigramModel {
    /** What an unknown character costs below the vocabulary's lowest score ({@code K_UNK_PENALTY}). */
    static final double UNKNOWN_PENALTY = 10.0;

    private final Path file;
    private final Map<String, Integer> ids;
    private final double[] scores;
    private final Integer unkId;
    private final boolean byteFallback;
    private final double unknownScore;
    /**
     * The pieces sorted (UTF-16 order) with their ids, for the prefix walk of {@link #encode}: the pieces that
     * begin with a given string are one run of this array, so each further character narrows the run by binary search
     * and the walk stops at the first character no piece continues, as Rust's trie does. (Trying every length up to
     * the longest piece instead would cost a hostile file's one 50,000-character piece that many substrings at every
     * position of every word.)
     */
    private final String[] sortedPieces;
    private final int[] sortedIds;

    private UnigramModel(Path file, Map<String, Integer> ids, double[] scores, Integer unkId, boolean byteFallback) {
        this.file = file;
        this.ids = ids;
        this.scores = scores;
        this.unkId = unkId;
        this.byteFallback = byteFallback;
        double min = Double.POSITIVE_INFINITY;
        for (double s : scores) {
            min = Math.min(min, s);
        }
        this.unknownScore = min - UNKNOWN_PENALTY;
        this.sortedPieces = ids.keySet().toArray(String[]::new);
        Arrays.sort(sortedPieces);
        this.sortedIds = new int[sortedPieces.length];
        for (int i = 0; i < sortedPieces.length; i++) {
            sortedIds[i] = ids.get(sortedPieces[i]);
        }
    }

    /** The model of a tokenizer.json: its {@code vocab} of {@code [piece, score]}, {@code unk_id}, {@code byte_fallback}. */
    static UnigramModel parse(Path file, JsonNode model) throws TokenizerException {
        List<String> pieces = pieces(file, model.path("vocab"));
        double[] scores = new double[pieces.size()];
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < pieces.size(); i++) {
            ids.put(pieces.get(i), i); // a repeated piece: the last id, as Rust's token_to_ids
            scores[i] = model.path("vocab").get(i).get(1).doubleValue();
        }
        JsonNode unk = model.path("unk_id");
        Integer unkId = null;
        if (!unk.isMissingNode() && !unk.isNull()) {
            if (!unk.isIntegralNumber() || !unk.canConvertToInt() || unk.intValue() < 0) {
                throw new TokenizerException(file, "model unk_id " + unk + " is not an integer 0 or more");
            }
            if (pieces.isEmpty()) {
                throw new TokenizerException(file, "the Unigram vocabulary is empty but unk_id needs a piece");
            }
            if (unk.intValue() >= pieces.size()) {
                throw new TokenizerException(file, "model unk_id " + unk + " is past the Unigram vocabulary's "
                        + pieces.size() + " pieces");
            }
            unkId = unk.intValue();
        }
        JsonNode fallback = model.path("byte_fallback");
        if (!fallback.isMissingNode() && !fallback.isBoolean()) {
            throw new TokenizerException(file, "model byte_fallback " + fallback + " is not true or false");
        }
        return new UnigramModel(file, ids, scores, unkId, fallback.isBoolean() && fallback.booleanValue());
    }

    /**
     * The pieces of a Unigram {@code vocab}, in id order: an array of {@code [piece, score]} pairs, the score a number.
     */
    static List<String> pieces(Path file, JsonNode vocab) throws TokenizerException {
        if (!vocab.isArray()) {
            throw new TokenizerException(file, "the Unigram model's 'vocab' is not an array of [piece, score] pairs");
        }
        String[] pieces = new String[vocab.size()];
        for (int i = 0; i < pieces.length; i++) {
            JsonNode entry = vocab.get(i);
            if (!entry.isArray() || entry.size() != 2 || !entry.get(0).isString() || !entry.get(1).isNumber()) {
                throw new TokenizerException(file, "Unigram vocab entry " + i + " is not a [piece, score] pair");
            }
            if (!Double.isFinite(entry.get(1).doubleValue())) {
                // Jackson reads 1e400 as Infinity; serde_json refuses a number out of a double's range
                throw new TokenizerException(file, "Unigram vocab entry " + i + " has the score " + entry.get(1)
                        + ", out of a double's range");
            }
            pieces[i] = entry.get(0).asString();
        }
        return List.of(pieces);
    }

    /** The number of pieces: ids are 0 to this less 1. */
    int size() {
        return scores.length;
    }

    /**
     * The first index in [from, to) whose piece has a character at {@code depth} of {@code c} or more ({@code c} up
     * to 0x10000, past every {@code char}), or {@code to}. All pieces there share their first {@code depth} characters,
     * so those ending at {@code depth} come first and the rest are ordered by that character.
     */
    private int firstContinuing(int from, int to, int depth, int c) {
        int lo = from;
        int hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            String piece = sortedPieces[mid];
            if (piece.length() <= depth || piece.charAt(depth) < c) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Appends the ids of {@code word}'s best segmentation to {@code out}. */
    void encode(String word, List<Integer> out) {
        int n = word.length();
        if (n == 0) {
            return;
        }
        // best[end]: the best path over word[0, end): its score, the start of its last token, that token's id
        double[] bestScore = new double[n + 1];
        int[] bestStart = new int[n + 1];
        int[] bestId = new int[n + 1];
        Arrays.fill(bestStart, -1);
        for (int start = 0; start < n; ) {
            int charLength = Character.charCount(word.codePointAt(start));
            double before = bestScore[start];
            boolean singleCharacterPiece = false;
            // [from, to): the pieces that begin with word[start, start + length - 1)
            int from = 0;
            int to = sortedPieces.length;
            for (int length = 1; start + length <= n; length++) {
                char c = word.charAt(start + length - 1);
                from = firstContinuing(from, to, length - 1, c);
                to = firstContinuing(from, to, length - 1, c + 1);
                if (from == to) {
                    break; // no piece continues: no longer match either
                }
                if (sortedPieces[from].length() != length) {
                    continue; // pieces continue, none ends here (the one that ends here would sort first)
                }
                int id = sortedIds[from];
                int end = start + length;
                double candidate = before + scores[id];
                if (bestStart[end] < 0 || candidate > bestScore[end]) {
                    bestScore[end] = candidate;
                    bestStart[end] = start;
                    bestId[end] = id;
                }
                if (length == charLength) {
                    singleCharacterPiece = true;
                }
            }
            if (!singleCharacterPiece) {
                int end = start + charLength;
                double candidate = before + unknownScore;
                if (bestStart[end] < 0 || candidate > bestScore[end]) {
                    if (unkId == null) {
                        throw new IllegalArgumentException(file + ": the Unigram model has no unk_id and no piece for '"
                                + word.substring(start, end) + "' (U+" + Integer.toHexString(word.codePointAt(start))
                                .toUpperCase(Locale.ROOT) + "), so the text cannot be encoded (Hugging"
                                + " Face's tokenizers fail too: MissingUnkId)");
                    }
                    bestScore[end] = candidate;
                    bestStart[end] = start;
                    bestId[end] = unkId;
                }
            }
            start += charLength;
        }
        // back from the end: tokens in reverse, consecutive unknowns fused into one
        ArrayDeque<String> tokens = new ArrayDeque<>();
        int unknownFrom = -1;
        int end = n;
        while (end > 0) {
            int start = bestStart[end];
            if (unkId != null && bestId[end] == unkId) {
                if (unknownFrom < 0) {
                    unknownFrom = end;
                }
            } else {
                if (unknownFrom >= 0) {
                    tokens.addFirst(word.substring(end, unknownFrom));
                    unknownFrom = -1;
                }
                tokens.addFirst(word.substring(start, end));
            }
            end = start;
        }
        if (unknownFrom >= 0) {
            tokens.addFirst(word.substring(0, unknownFrom));
        }
        for (String token : tokens) {
            addId(token, out);
        }
    }

    /** A token's id: its piece's, else its bytes' {@code <0xXX>} pieces under byte fallback, else unk_id. */
    private void addId(String token, List<Integer> out) {
        Integer id = ids.get(token);
        if (id != null) {
            out.add(id);
            return;
        }
        if (byteFallback) {
            byte[] bytes = token.getBytes(StandardCharsets.UTF_8);
            int[] byteIds = new int[bytes.length];
            boolean all = true;
            for (int i = 0; i < bytes.length && all; i++) {
                Integer b = ids.get(String.format("<0x%02X>", bytes[i] & 0xFF));
                all = b != null;
                byteIds[i] = all ? b : -1;
            }
            if (all) {
                for (int b : byteIds) {
                    out.add(b);
                }
                return;
            }
        }
        if (unkId == null) {
            throw new IllegalArgumentException(file + ": the Unigram model has no unk_id for '" + token + "'");
        }
        out.add(unkId);
    }
}
