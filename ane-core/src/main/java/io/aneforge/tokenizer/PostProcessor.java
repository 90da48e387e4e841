package io.aneforge.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * A tokenizer.json {@code post_processor} as templates: the special tokens around one text ({@link #single}) or a
 * pair ({@link #pair}), and the segment (type id) of each part, as Hugging Face's tokenizers apply them.
 *
 * <p>{@code TemplateProcessing} gives its templates as written; {@code BertProcessing} is
 * {@code [CLS] A [SEP] B [SEP]} with the second text and its {@code [SEP]} in segment 1; {@code RobertaProcessing}
 * is {@code <s> A </s></s> B </s>}, all segment 0 (RoBERTa has no token types); no post-processor (or
 * {@code ByteLevel}, which only moves offsets) adds nothing, the second text in segment 1; a {@code Sequence} applies
 * its processors in turn, as Hugging Face's tokenizers do ({@link #sequence}).
 *
 * @param pair null when a {@code TemplateProcessing} has no pair template (then pairs are refused, naming it)
 */
record PostProcessor(List<Piece> single, List<Piece> pair) {
    /** Which text a {@link Piece} stands for: {@code sequence} 0 is the first, 1 the second, -1 a special token. */
    static final int SPECIAL = -1;

    /**
     * One part of a template: the special token ids {@code ids} (when {@code sequence} is {@link #SPECIAL}) or the
     * tokens of one text, every token of it in segment {@code typeId}.
     */
    record Piece(int sequence, int[] ids, int typeId) {
        static Piece special(int typeId, int... ids) {
            return new Piece(SPECIAL, ids, typeId);
        }

        static Piece text(int sequence, int typeId) {
            return new Piece(sequence, new int[0], typeId);
        }
    }

    private static final PostProcessor NONE = new PostProcessor(List.of(Piece.text(0, 0)),
            List.of(Piece.text(0, 0), Piece.text(1, 1)));

    static PostProcessor parse(Path file, JsonNode post) throws TokenizerException {
        String type = post.path("type").asString("");
        switch (type) {
            case "", "ByteLevel" -> {
                return NONE;
            }
            case "TemplateProcessing" -> {
                List<Piece> single = template(file, post, "single");
                if (single == null) {
                    throw new TokenizerException(file, "post_processor TemplateProcessing has no 'single' template");
                }
                return new PostProcessor(single, template(file, post, "pair"));
            }
            case "BertProcessing" -> {
                int cls = TokenizerJson.specialId(file, post.path("cls").path(1), "cls");
                int sep = TokenizerJson.specialId(file, post.path("sep").path(1), "sep");
                return new PostProcessor(List.of(Piece.special(0, cls), Piece.text(0, 0), Piece.special(0, sep)),
                        List.of(Piece.special(0, cls), Piece.text(0, 0), Piece.special(0, sep), Piece.text(1, 1),
                                Piece.special(1, sep)));
            }
            case "RobertaProcessing" -> {
                int cls = TokenizerJson.specialId(file, post.path("cls").path(1), "cls");
                int sep = TokenizerJson.specialId(file, post.path("sep").path(1), "sep");
                return new PostProcessor(List.of(Piece.special(0, cls), Piece.text(0, 0), Piece.special(0, sep)),
                        List.of(Piece.special(0, cls), Piece.text(0, 0), Piece.special(0, sep, sep), Piece.text(1, 0),
                                Piece.special(0, sep)));
            }
            case "Sequence" -> {
                return sequence(file, post);
            }
            default -> throw new TokenizerException(file, "post_processor '" + type + "' is not supported by the Java"
                    + " tokenizer (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and a"
                    + " Sequence of them)");
        }
    }

    /**
     * A {@code Sequence}, as Hugging Face's tokenizers run it ({@code processors/sequence.rs}): each processor in
     * turn takes the encodings the previous one gave (at first the text, or the pair's two texts with segments 0
     * and 1) and gives encodings back, which are concatenated at the end. {@code ByteLevel} changes no id;
     * {@code BertProcessing} and {@code RobertaProcessing} wrap each encoding in their tokens (the first as a text,
     * every later one as a second text); {@code TemplateProcessing} takes one encoding (its single template) or two
     * (its pair template), sets every token of the encoding a {@code $A}/{@code $B} piece names to that piece's
     * segment, and gives one encoding per piece. Truncation leaves room for the sum of the processors' own counts
     * ({@code added_tokens}), so a Sequence whose result has another count of special tokens (a processor after a
     * {@code TemplateProcessing} sees its pieces, not the texts) is refused: the native tokenizer then returns more
     * tokens than the length asked for, or, for a {@code TemplateProcessing} given more than two encodings, stops
     * the process ({@code todo!()}).
     */
    private static PostProcessor sequence(Path file, JsonNode post) throws TokenizerException {
        List<JsonNode> processors = new ArrayList<>();
        flatten(file, post, processors);
        List<Piece> single = run(file, processors, 1);
        if (single == null) {
            throw new TokenizerException(file, "post_processor Sequence has no way to process one text");
        }
        return new PostProcessor(single, run(file, processors, 2));
    }

    /** The processors of a (nested) {@code Sequence} in the order they run: a nested one runs its own in turn. */
    private static void flatten(Path file, JsonNode sequence, List<JsonNode> out) throws TokenizerException {
        JsonNode processors = sequence.path("processors");
        if (!processors.isArray()) {
            throw new TokenizerException(file, "post_processor Sequence has no 'processors' array");
        }
        for (JsonNode p : processors) {
            if (p.path("type").asString("").equals("Sequence")) {
                flatten(file, p, out);
            } else {
                out.add(p);
            }
        }
    }

    /**
     * The template {@code processors} make of {@code texts} (1 or 2) texts, or null when a {@code TemplateProcessing}
     * among them has no pair template (then pairs are refused naming it, {@link #pairTemplate}).
     */
    private static List<Piece> run(Path file, List<JsonNode> processors, int texts) throws TokenizerException {
        List<List<Piece>> encodings = new ArrayList<>();
        for (int i = 0; i < texts; i++) {
            encodings.add(List.of(Piece.text(i, i))); // the tokenizer gives the second text segment 1
        }
        boolean pair = texts == 2;
        int declared = 0;
        List<String> names = new ArrayList<>();
        for (JsonNode p : processors) {
            String type = p.path("type").asString("");
            names.add(type);
            switch (type) {
                case "ByteLevel" -> {
                    // moves offsets only
                }
                case "BertProcessing", "RobertaProcessing" -> {
                    boolean roberta = type.equals("RobertaProcessing");
                    int cls = TokenizerJson.specialId(file, p.path("cls").path(1), "cls");
                    int sep = TokenizerJson.specialId(file, p.path("sep").path(1), "sep");
                    List<List<Piece>> out = new ArrayList<>();
                    for (int i = 0; i < encodings.size(); i++) {
                        // RoBERTa sets every token to segment 0 first; BERT keeps the encoding's segments
                        List<Piece> e = roberta ? typed(encodings.get(i), 0) : encodings.get(i);
                        List<Piece> wrapped = new ArrayList<>();
                        if (i == 0) {
                            wrapped.add(Piece.special(0, cls));
                        } else if (roberta) {
                            wrapped.add(Piece.special(0, sep));
                        }
                        wrapped.addAll(e);
                        wrapped.add(Piece.special(i == 0 || roberta ? 0 : 1, sep));
                        out.add(wrapped);
                    }
                    encodings = out;
                    declared += roberta ? (pair ? 4 : 2) : (pair ? 3 : 2);
                }
                case "TemplateProcessing" -> {
                    PostProcessor t = parse(file, p);
                    if (encodings.size() > 2) {
                        throw new TokenizerException(file, "post_processor Sequence " + names + " gives a"
                                + " TemplateProcessing " + encodings.size() + " encodings (the pieces of an earlier"
                                + " template): Hugging Face's tokenizers stop the process there (todo!()); put the"
                                + " TemplateProcessing first or merge the templates into one");
                    }
                    List<Piece> template = encodings.size() == 2 ? t.pair() : t.single();
                    if (template == null) {
                        return null;
                    }
                    List<List<Piece>> out = new ArrayList<>();
                    for (Piece piece : template) {
                        out.add(piece.sequence() == SPECIAL ? List.of(piece)
                                : typed(encodings.get(piece.sequence()), piece.typeId()));
                    }
                    encodings = out;
                    declared += added(template);
                }
                default -> throw new TokenizerException(file, "post_processor Sequence member '" + type + "' is not"
                        + " supported by the Java tokenizer (supported: TemplateProcessing, BertProcessing,"
                        + " RobertaProcessing, ByteLevel and Sequences of them)");
            }
        }
        List<Piece> merged = new ArrayList<>();
        encodings.forEach(merged::addAll);
        if (added(merged) != declared) {
            throw new TokenizerException(file, "post_processor Sequence " + names + " adds " + added(merged)
                    + " special tokens to " + (pair ? "a pair" : "one text") + " but its processors count " + declared
                    + " (a processor after a TemplateProcessing wraps each of its pieces): Hugging Face's tokenizers"
                    + " truncate for " + declared + " and return encodings longer than the length asked for; reorder"
                    + " the processors (the TemplateProcessing last) or merge them into one template");
        }
        return List.copyOf(merged);
    }

    /** {@code encoding} with every token, special or not, in segment {@code typeId} (as {@code set_type_ids}). */
    private static List<Piece> typed(List<Piece> encoding, int typeId) {
        return encoding.stream().map(p -> new Piece(p.sequence(), p.ids(), typeId)).toList();
    }

    /** A TemplateProcessing template ({@code single} or {@code pair}), or null when the file has none. */
    private static List<Piece> template(Path file, JsonNode post, String name) throws TokenizerException {
        JsonNode pieces = post.path(name);
        if (pieces.isMissingNode() || pieces.isNull()) {
            return null;
        }
        List<Piece> out = new ArrayList<>();
        boolean[] seen = new boolean[2];
        for (JsonNode piece : pieces) {
            if (piece.has("SpecialToken")) {
                JsonNode token = piece.get("SpecialToken");
                String id = token.path("id").asString("");
                JsonNode ids = post.path("special_tokens").path(id).path("ids");
                if (!ids.isArray() || ids.isEmpty()) {
                    throw new TokenizerException(file, "post_processor special token '" + id + "' has no ids");
                }
                int[] values = new int[ids.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = TokenizerJson.specialId(file, ids.get(i), id);
                }
                out.add(Piece.special(typeId(file, token, name), values));
            } else if (piece.has("Sequence")) {
                JsonNode sequence = piece.get("Sequence");
                String id = sequence.path("id").asString("");
                int index = switch (id) {
                    case "A" -> 0;
                    case "B" -> 1;
                    default -> throw new TokenizerException(file, "post_processor " + name + " template names sequence '"
                            + id + "': only A and B exist");
                };
                seen[index] = true;
                out.add(Piece.text(index, typeId(file, sequence, name)));
            } else {
                throw new TokenizerException(file, "post_processor " + name + " template has a piece that is neither a"
                        + " SpecialToken nor a Sequence: " + piece);
            }
        }
        boolean pair = name.equals("pair");
        if (!seen[0] || seen[1] != pair) {
            throw new TokenizerException(file, "post_processor " + name + " template must name sequence A"
                    + (pair ? " and B" : " only") + ", as Hugging Face's tokenizers require");
        }
        return List.copyOf(out);
    }

    private static int typeId(Path file, JsonNode piece, String template) throws TokenizerException {
        JsonNode t = piece.path("type_id");
        if (t.isMissingNode()) {
            return 0;
        }
        if (!t.isIntegralNumber() || !t.canConvertToInt() || t.intValue() < 0) {
            throw new TokenizerException(file, "post_processor " + template + " template type_id " + t
                    + " is not an integer 0 or more");
        }
        return t.intValue();
    }

    /** The special tokens a template adds (what truncation leaves room for). */
    static int added(List<Piece> template) {
        int n = 0;
        for (Piece p : template) {
            n += p.ids().length;
        }
        return n;
    }

    /** The special token ids of the single template before the text. */
    int[] prefixIds() {
        return specials(true);
    }

    /** The special token ids of the single template after the text. */
    int[] suffixIds() {
        return specials(false);
    }

    private int[] specials(boolean before) {
        List<Integer> out = new ArrayList<>();
        boolean inPrefix = true;
        for (Piece p : single) {
            if (p.sequence() != SPECIAL) {
                inPrefix = false;
            } else if (inPrefix == before) {
                for (int id : p.ids()) {
                    out.add(id);
                }
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The {@link #pair} template, or a refusal naming the missing template and the fix. */
    List<Piece> pairTemplate(Path file) {
        if (pair == null) {
            throw new IllegalArgumentException(file + ": the post_processor TemplateProcessing has no 'pair' template,"
                    + " so this tokenizer encodes one text only; convert without --token-types or predict without"
                    + " --text-pair");
        }
        return pair;
    }

    /**
     * The pair template applied to two texts' tokens (already truncated): ids and their segments, in template order.
     */
    int[][] applyPair(Path file, List<Integer> first, List<Integer> second) {
        List<Integer> ids = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        Map<Integer, List<Integer>> texts = Map.of(0, first, 1, second);
        for (Piece p : pairTemplate(file)) {
            if (p.sequence() == SPECIAL) {
                for (int id : p.ids()) {
                    ids.add(id);
                    types.add(p.typeId());
                }
            } else {
                for (int id : texts.get(p.sequence())) {
                    ids.add(id);
                    types.add(p.typeId());
                }
            }
        }
        return new int[][] {ids.stream().mapToInt(Integer::intValue).toArray(),
                types.stream().mapToInt(Integer::intValue).toArray()};
    }
}
