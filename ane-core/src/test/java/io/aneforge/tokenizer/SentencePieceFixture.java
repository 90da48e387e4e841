package io.aneforge.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A small SentencePiece tokenizer.json in XLM-RoBERTa's form (transformers' {@code XLMRobertaConverter}): a
 * {@code Unigram} vocabulary {@code <s> <pad> </s> <unk>}, pieces, then {@code <mask>}; the normalizer
 * {@code Sequence[Precompiled, Replace(" {2,}", " ")]}; a {@code Metaspace} pre-tokenizer; the template
 * {@code <s> A </s>} / {@code <s> A </s> </s> B </s>}. The real {@code precompiled_charsmap} (SentencePiece's
 * {@code nmt_nfkc}, 237 KB) is not in the repository: {@link #charsmap} writes one in the same binary form, a Darts-clone
 * double array over a small table ({@link #NORMALIZATION}), which the native tokenizer reads too.
 */
final class SentencePieceFixture {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /**
     * The normalization rules, in the spirit of {@code nmt_nfkc}: full-width ASCII to ASCII, compatibility characters
     * expanded (ﬁ, ™, ①), whitespace to a space, zero-width characters removed, a decomposed é composed, and two keys
     * that a rule makes unreachable: {@code Ａ} + combining acute (a 5-byte cluster, looked up whole, whose shortest
     * key prefix is {@code Ａ}: it becomes {@code A}, the accent dropped) and the jamo pair ᄀ + ᅡ (a 6-byte cluster,
     * looked up character by character).
     */
    static final Map<String, String> NORMALIZATION = normalization();

    /** id 0-3, as XLM-RoBERTa's. */
    static final int BOS = 0;
    static final int PAD = 1;
    static final int EOS = 2;
    static final int UNK = 3;

    /** The pieces after the four specials, with their scores; {@code <mask>} follows them. */
    static final Map<String, Double> PIECES = pieces();

    private SentencePieceFixture() {
    }

    private static Map<String, String> normalization() {
        Map<String, String> table = new LinkedHashMap<>();
        for (int c = 0xFF01; c <= 0xFF5E; c++) {
            table.put(new String(Character.toChars(c)), String.valueOf((char) (c - 0xFEE0)));
        }
        table.put("\uFB01", "fi");
        table.put("\u2122", "TM");
        table.put("\u2460", "1");
        table.put("\u212B", "\u00C5");
        table.put("e\u0301", "\u00E9");
        table.put("\t", " ");
        table.put("\n", " ");
        table.put("\r", " ");
        table.put("\u00A0", " ");
        table.put("\u3000", " ");
        table.put("\u200B", "");
        table.put("\uFEFF", "");
        table.put("\uFF21\u0301", "\u00C1"); // unreachable: Ａ alone is the shortest key of that cluster
        table.put("\u1100\u1161", "\uAC00"); // unreachable: 6 bytes, looked up character by character
        return table;
    }

    private static Map<String, Double> pieces() {
        Map<String, Double> p = new LinkedHashMap<>();
        p.put("\u2581", -2.0);
        for (char c = 'a'; c <= 'z'; c++) {
            p.put(String.valueOf(c), -4.0);
        }
        for (char c = 'A'; c <= 'Z'; c++) {
            p.put(String.valueOf(c), -5.0);
        }
        for (char c = '0'; c <= '9'; c++) {
            p.put(String.valueOf(c), -4.5);
        }
        for (String s : List.of(",", ".", "!", "?", "-", ":", "(", ")")) {
            p.put(s, -3.0);
        }
        p.put("\u2581hello", -6.0);
        p.put("\u2581world", -6.5);
        p.put("\u2581he", -5.0);
        p.put("llo", -5.0);
        // "▁yellow": ▁ye + llow and ▁yel + low tie at -10; the first found (the earlier start of the last piece) wins
        p.put("\u2581ye", -5.0);
        p.put("llow", -5.0);
        p.put("\u2581yel", -5.0);
        p.put("low", -5.0);
        p.put("\u2581caf", -6.0);
        p.put("\u00E9", -5.0);
        p.put("\u2581caf\u00E9", -7.0);
        p.put("fi", -4.0);
        p.put("\u2581fi", -4.5);
        p.put("ne", -4.0);
        p.put("TM", -5.0);
        p.put("\u2581the", -4.0);
        p.put("\u2581and", -4.0);
        p.put("ing", -4.0);
        p.put("\u2581a", -4.2);
        p.put("aa", -5.5);
        p.put("aaaa", -8.0);
        p.put("\u5317\u4EAC", -6.0); // 北京
        p.put("\u2581\u5317\u4EAC", -7.0);
        p.put("\u4E2D\u56FD", -6.0); // 中国
        p.put("\u7684", -4.0); // 的
        p.put("\u662F", -4.0); // 是
        p.put("\u9996\u90FD", -6.0); // 首都
        p.put("\u3002", -3.0); // 。
        p.put("\uD83D\uDE00", -5.0); // 😀
        p.put("\uAC00", -5.0); // 가
        return p;
    }

    /** The id of {@code piece} in {@link #vocabulary}. */
    static int id(String piece) {
        int i = vocabulary().indexOf(piece);
        if (i < 0) {
            throw new IllegalArgumentException("no piece " + piece);
        }
        return i;
    }

    /** Every piece in id order: the four specials, {@link #PIECES}, {@code <mask>}. */
    static List<String> vocabulary() {
        List<String> v = new ArrayList<>(List.of("<s>", "<pad>", "</s>", "<unk>"));
        v.addAll(PIECES.keySet());
        v.add("<mask>");
        return v;
    }

    /** XLM-RoBERTa's tokenizer.json over this vocabulary, {@code edit} applied to the tree before it is written. */
    static String xlmRobertaJson(Consumer<ObjectNode> edit) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        List<String> vocab = vocabulary();
        for (String special : List.of("<s>", "<pad>", "</s>", "<unk>", "<mask>")) {
            added.addObject().put("id", vocab.indexOf(special)).put("content", special).put("single_word", false)
                    .put("lstrip", special.equals("<mask>")).put("rstrip", false).put("normalized", false)
                    .put("special", true);
        }
        ObjectNode normalizer = root.putObject("normalizer").put("type", "Sequence");
        ArrayNode steps = normalizer.putArray("normalizers");
        steps.addObject().put("type", "Precompiled").put("precompiled_charsmap",
                Base64.getEncoder().encodeToString(charsmap(NORMALIZATION)));
        steps.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("Regex", " {2,}");
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                .put("prepend_scheme", "always").put("split", true);
        ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        special(single, "<s>");
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        special(single, "</s>");
        ArrayNode pair = post.putArray("pair");
        special(pair, "<s>");
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        special(pair, "</s>");
        special(pair, "</s>");
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 0);
        special(pair, "</s>");
        ObjectNode tokens = post.putObject("special_tokens");
        for (String special : List.of("<s>", "</s>")) {
            ObjectNode t = tokens.putObject(special).put("id", special);
            t.putArray("ids").add(vocab.indexOf(special));
            t.putArray("tokens").add(special);
        }
        root.putObject("decoder").put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "always")
                .put("split", true);
        ObjectNode model = root.putObject("model").put("type", "Unigram").put("unk_id", UNK);
        ArrayNode pieces = model.putArray("vocab");
        for (String piece : vocab) {
            pieces.addArray().add(piece).add(PIECES.getOrDefault(piece, 0.0));
        }
        model.put("byte_fallback", false);
        edit.accept(root);
        return JSON.writeValueAsString(root);
    }

    private static void special(ArrayNode template, String id) {
        template.addObject().putObject("SpecialToken").put("id", id).put("type_id", 0);
    }

    /**
     * A SentencePiece {@code precompiled_charsmap} for {@code table} (key to replacement): a little-endian u32 trie
     * size in bytes, the trie's little-endian u32 units, then each replacement followed by a NUL byte, a key's value
     * being its replacement's byte offset there. The trie is a Darts-clone double array over the keys' UTF-8 bytes:
     * the children of a node with base {@code b} sit at {@code b ^ label}, its value (when it ends a key) at
     * {@code b ^ 0}; a unit holds its label in bits 0-7, "has a value" in bit 8 and {@code position ^ base} from bit
     * 10 (always below 2^21 here, so bit 9, the 256-times offset, is never needed); a value unit is the value with bit
     * 31 set. Bases are distinct (so a byte reaching another node's child never finds its own label there) and the
     * array is padded to whole 256-unit blocks (so every {@code base ^ byte} is inside it).
     */
    static byte[] charsmap(Map<String, String> table) {
        ByteArrayOutputStream strings = new ByteArrayOutputStream();
        Node root = new Node();
        for (Map.Entry<String, String> rule : table.entrySet()) {
            Node node = root;
            for (byte b : rule.getKey().getBytes(StandardCharsets.UTF_8)) {
                node = node.children.computeIfAbsent(b & 0xFF, k -> new Node());
            }
            node.value = strings.size();
            strings.writeBytes(rule.getValue().getBytes(StandardCharsets.UTF_8));
            strings.write(0);
        }
        DoubleArray array = new DoubleArray();
        array.used[0] = true;
        array.place(root, 0);
        int blocks = array.highest / 256 + 1;
        ByteBuffer out = ByteBuffer.allocate(4 + blocks * 256 * 4 + strings.size()).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(blocks * 256 * 4);
        for (int i = 0; i < blocks * 256; i++) {
            out.putInt(i < array.units.length ? (int) array.units[i] : 0);
        }
        out.put(strings.toByteArray());
        return out.array();
    }

    private static final class Node {
        final TreeMap<Integer, Node> children = new TreeMap<>();
        Integer value;
    }

    private static final class DoubleArray {
        long[] units = new long[1 << 16];
        boolean[] used = new boolean[1 << 16];
        final Set<Integer> bases = new HashSet<>();
        int highest;

        /** Gives {@code node}, already at {@code position} with its label set, a base and places its children. */
        void place(Node node, int position) {
            List<Integer> labels = new ArrayList<>();
            if (node.value != null) {
                labels.add(0);
            }
            labels.addAll(node.children.keySet());
            if (labels.isEmpty()) {
                return;
            }
            int base = 1;
            while (!fits(base, labels)) {
                base++;
            }
            bases.add(base);
            for (int label : labels) {
                use(base ^ label);
            }
            units[position] |= ((long) (position ^ base) << 10) | (node.value != null ? 1L << 8 : 0);
            if (node.value != null) {
                units[base] = (1L << 31) | node.value;
            }
            for (Map.Entry<Integer, Node> child : node.children.entrySet()) {
                int at = base ^ child.getKey();
                units[at] = child.getKey();
                place(child.getValue(), at);
            }
        }

        private boolean fits(int base, List<Integer> labels) {
            if (bases.contains(base)) {
                return false;
            }
            for (int label : labels) {
                int at = base ^ label;
                if (at == 0 || (at < used.length && used[at])) {
                    return false;
                }
            }
            return true;
        }

        private void use(int at) {
            if (at >= used.length) {
                used = Arrays.copyOf(used, Math.max(used.length * 2, at + 1));
                units = Arrays.copyOf(units, used.length);
            }
            used[at] = true;
            highest = Math.max(highest, at);
        }
    }
}
