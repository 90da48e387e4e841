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
 * {@code ByteLevel}, which only moves offsets) adds nothing, the second text in segment 1; a {@code Sequence} is the
 * one processor of it that adds tokens (its {@code ByteLevel} members change no id).
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
                List<JsonNode> adding = new ArrayList<>();
                addingProcessors(file, post, adding);
                if (adding.size() > 1) {
                    throw new TokenizerException(file, "post_processor Sequence has " + adding.size()
                            + " processors that add tokens (" + adding.stream().map(p -> p.path("type").asString(""))
                            .toList() + "): the Java tokenizer applies one; load it with the native tokenizer");
                }
                return adding.isEmpty() ? NONE : parse(file, adding.get(0));
            }
            default -> throw new TokenizerException(file, "post_processor '" + type + "' is not supported by the Java"
                    + " tokenizer (supported: TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel and a"
                    + " Sequence of them)");
        }
    }

    /** The processors of a (nested) {@code Sequence} that add tokens: all but {@code ByteLevel}. */
    private static void addingProcessors(Path file, JsonNode sequence, List<JsonNode> out) throws TokenizerException {
        JsonNode processors = sequence.path("processors");
        if (!processors.isArray()) {
            throw new TokenizerException(file, "post_processor Sequence has no 'processors' array");
        }
        for (JsonNode p : processors) {
            String type = p.path("type").asString("");
            if (type.equals("Sequence")) {
                addingProcessors(file, p, out);
            } else if (!type.equals("ByteLevel")) {
                out.add(p);
            }
        }
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
