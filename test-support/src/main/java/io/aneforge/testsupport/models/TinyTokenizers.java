package io.aneforge.testsupport.models;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Hand-made {@code tokenizer.json} files in the exact format of Hugging Face tokenizers: a
 * small BERT WordPiece and a small GPT-2 byte-level BPE (256 byte symbols, a few merges,
 * {@code <|endoftext|>}). Used by tiny models and by tokenizer tests against the reference.
 */
public final class TinyTokenizers {
    private static final String[][] MERGES = {
        {"h", "e"}, {"Ġ", "t"}, {"Ġt", "he"}, {"l", "l"}, {"e", "ll"}, {"h", "ell"}, {"hell", "o"},
        {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"l", "d"}, {"Ġwor", "ld"}, {"i", "n"}, {"in", "g"},
        {"Ã", "©"}, {"Ġ", "c"}, {"Ġc", "a"}, {"Ġca", "f"}, {"Ġcaf", "Ã©"}, {"'", "s"}, {"Ġ", "Ġ"},
        {"1", "2"}, {"12", "3"},
    };

    private TinyTokenizers() {
    }

    public static List<String> wordPieceVocab() {
        List<String> v = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"));
        for (String p : List.of(".", ",", "!", "?", "'", "-", "(", ")")) {
            v.add(p);
        }
        for (char c = 'a'; c <= 'z'; c++) {
            v.add(String.valueOf(c));
        }
        for (char c = 'a'; c <= 'z'; c++) {
            v.add("##" + c);
        }
        for (char c = '0'; c <= '9'; c++) {
            v.add(String.valueOf(c));
        }
        v.addAll(List.of("the", "hello", "world", "un", "##aff", "##able", "cafe", "naive", "##s", "##ing",
                "中", "文", "日", "本", "é"));
        return v;
    }

    public static String wordPieceJson() {
        List<String> vocab = wordPieceVocab();
        StringBuilder json = new StringBuilder();
        json.append("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[");
        for (int i = 0; i < 5; i++) {
            json.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(vocab.get(i))
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                            + "\"special\":true}");
        }
        json.append("],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,"
                + "\"strip_accents\":null,\"lowercase\":true},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\","
                + "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[SEP]\","
                + "\"type_id\":0}}],\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":"
                + "{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},{\"Sequence\":"
                + "{\"id\":\"B\",\"type_id\":1}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],"
                + "\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[2],\"tokens\":[\"[CLS]\"]},"
                + "\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[3],\"tokens\":[\"[SEP]\"]}}},"
                + "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
                + "\"max_input_chars_per_word\":100,\"vocab\":{");
        for (int i = 0; i < vocab.size(); i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RawSafetensors.escape(vocab.get(i))).append("\":").append(i);
        }
        return json.append("}}}").toString();
    }

    /**
     * MPNet's vocabulary layout: {@code <s> <pad> </s> <unk>}, then BERT's WordPiece vocabulary (so {@code [PAD]} and
     * {@code [UNK]} too), then {@code <mask>}; unk_token {@code [UNK]}, as MPNetTokenizer's default.
     */
    public static List<String> mpnetVocab() {
        List<String> v = new ArrayList<>(List.of("<s>", "<pad>", "</s>", "<unk>"));
        v.addAll(wordPieceVocab());
        v.add("<mask>");
        return v;
    }

    /**
     * MPNetConverter's tokenizer.json (transformers' convert_slow_tokenizer.py) over {@link #mpnetVocab}:
     * all-mpnet-base-v2's form, whose mask token is the special added token {@code <mask>} while BERT's {@code [MASK]}
     * stays an ordinary vocabulary entry.
     */
    public static String mpnetJson() {
        List<String> vocab = mpnetVocab();
        StringBuilder json = new StringBuilder("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                + "\"added_tokens\":[");
        String[] added = {"<s>", "<pad>", "</s>", "<unk>", "[UNK]", "<mask>"};
        for (int i = 0; i < added.length; i++) {
            json.append(i == 0 ? "" : ",").append("{\"id\":").append(vocab.indexOf(added[i])).append(",\"content\":\"")
                    .append(added[i]).append("\",\"single_word\":false,\"lstrip\":").append(added[i].equals("<mask>"))
                    .append(",\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        json.append("],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,"
                + "\"strip_accents\":null,\"lowercase\":true},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                + "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":["
                + specialToken("<s>", 0) + "," + templateSequence("A", 0) + "," + specialToken("</s>", 0) + "],\"pair\":["
                + specialToken("<s>", 0) + "," + templateSequence("A", 0) + "," + specialToken("</s>", 0) + ","
                + specialToken("</s>", 0) + ","
                + templateSequence("B", 1) + "," + specialToken("</s>", 1) + "],\"special_tokens\":{"
                + "\"<s>\":{\"id\":\"<s>\",\"ids\":[0],\"tokens\":[\"<s>\"]},"
                + "\"</s>\":{\"id\":\"</s>\",\"ids\":[2],\"tokens\":[\"</s>\"]}}},"
                + "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
                + "\"max_input_chars_per_word\":100,\"vocab\":{");
        for (int i = 0; i < vocab.size(); i++) {
            json.append(i == 0 ? "" : ",").append('"').append(vocab.get(i)) // no quote or backslash among them
                    .append("\":").append(i);
        }
        return json.append("}}}").toString();
    }

    private static String specialToken(String id, int type) {
        return "{\"SpecialToken\":{\"id\":\"" + id + "\",\"type_id\":" + type + "}}";
    }

    private static String templateSequence(String id, int type) {
        return "{\"Sequence\":{\"id\":\"" + id + "\",\"type_id\":" + type + "}}";
    }

    /**
     * A SentencePiece Unigram tokenizer.json as XLM-RoBERTa's and CamemBERT's (Metaspace, {@code <s> A </s>}, a pair
     * {@code <s> A </s> </s> B </s>}), without their Precompiled normalizer's charsmap: 14 pieces, {@code <s> <pad> </s>
     * <unk>} first, then {@code ▁hello ▁world ▁} and single letters. Written as tokenizers 0.14 and later write it
     * ({@code prepend_scheme}).
     */
    public static String unigramJson() {
        return """
                {"version":"1.0","truncation":null,"padding":null,"added_tokens":[
                 {"id":0,"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":1,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":2,"content":"</s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
                 {"id":3,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
                 "normalizer":null,
                 "pre_tokenizer":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always","split":true},
                 "post_processor":{"type":"TemplateProcessing",
                  "single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                            {"SpecialToken":{"id":"</s>","type_id":0}}],
                  "pair":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                          {"SpecialToken":{"id":"</s>","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}},
                          {"Sequence":{"id":"B","type_id":0}},{"SpecialToken":{"id":"</s>","type_id":0}}],
                  "special_tokens":{"<s>":{"id":"<s>","ids":[0],"tokens":["<s>"]},
                                    "</s>":{"id":"</s>","ids":[2],"tokens":["</s>"]}}},
                 "decoder":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"always","split":true},
                 "model":{"type":"Unigram","unk_id":3,"byte_fallback":false,"vocab":[
                  ["<s>",0.0],["<pad>",0.0],["</s>",0.0],["<unk>",0.0],["\u2581hello",-1.0],["\u2581world",-1.5],
                  ["\u2581",-2.0],["h",-3.0],["e",-3.0],["l",-3.0],["o",-3.0],["w",-3.0],["r",-3.0],["d",-3.0]]}}
                """;
    }

    /**
     * {@link #unigramJson} in the form tokenizers before 0.14 wrote it, as the Hub's xlm-roberta-base and
     * multilingual-e5 files still have it: the pre-tokenizer a {@code Sequence} of {@code WhitespaceSplit} and a
     * {@code Metaspace} with the legacy {@code "add_prefix_space": true} (no {@code prepend_scheme}), the decoder too.
     */
    public static String unigramJsonLegacyMetaspace() {
        String modern = "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":true}";
        String legacy = "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"add_prefix_space\":true}";
        String json = unigramJson();
        if (!json.contains("\"pre_tokenizer\":" + modern) || !json.contains("\"decoder\":" + modern)) {
            throw new IllegalStateException("unigramJson changed: update the legacy form");
        }
        return json.replace("\"pre_tokenizer\":" + modern, "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":["
                + "{\"type\":\"WhitespaceSplit\"}," + legacy + "]}").replace("\"decoder\":" + modern, "\"decoder\":" + legacy);
    }

    /** GPT-2's reversible byte to printable-character table (bytes_to_unicode). */
    public static Map<Integer, Character> byteToUnicode() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        Map<Integer, Character> map = new LinkedHashMap<>();
        for (int b : bs) {
            map.put(b, (char) b);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!map.containsKey(b)) {
                map.put(b, (char) (256 + n++));
            }
        }
        return map;
    }

    public static int byteLevelVocabSize() {
        return 256 + MERGES.length + 1;
    }

    public static String byteLevelBpeJson() {
        List<String> vocab = new ArrayList<>();
        for (char c : byteToUnicode().values()) {
            vocab.add(String.valueOf(c));
        }
        for (String[] m : MERGES) {
            vocab.add(m[0] + m[1]);
        }
        int eos = vocab.size();
        StringBuilder json = new StringBuilder();
        json.append("{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[{\"id\":").append(eos)
                .append(",\"content\":\"<|endoftext|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                        + "\"normalized\":true,\"special\":true}],\"normalizer\":null,"
                        + "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"trim_offsets\":true,"
                        + "\"use_regex\":true},\"post_processor\":{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                        + "\"trim_offsets\":false,\"use_regex\":true},\"decoder\":{\"type\":\"ByteLevel\","
                        + "\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true},"
                        + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,"
                        + "\"continuing_subword_prefix\":\"\",\"end_of_word_suffix\":\"\",\"fuse_unk\":false,"
                        + "\"byte_fallback\":false,\"vocab\":{");
        for (int i = 0; i < vocab.size(); i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RawSafetensors.escape(vocab.get(i))).append("\":").append(i);
        }
        json.append("},\"merges\":[");
        for (int i = 0; i < MERGES.length; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RawSafetensors.escape(MERGES[i][0] + " " + MERGES[i][1]))
                    .append('"');
        }
        return json.append("]}}").toString();
    }
}
