package io.aneforge.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** MPNet's config keys and relative position buckets; XLM-RoBERTa and CamemBERT read as RoBERTa. */
class MpnetConfigTest {
    @TempDir
    Path dir;

    /**
     * Known values, derived by hand from transformers' relative_position_bucket (num_buckets 32, max_distance 128):
     * with {@code n = query - key}, keys after the query ({@code n < 0}) add 16; {@code |n| < 8} is its own bucket;
     * otherwise {@code 8 + floor(log(|n|/8) / log(16) * 8)} = {@code 8 + floor(2·log2(|n|/8))}, at most 15. So 8..11
     * give 8 (2·log2(11/8) = 0.92), 12 gives 9 (1.17), 16 gives exactly 10, 22 gives 10 (2.92) and 23 gives 11 (3.05),
     * 32 exactly 12, 45 gives 12 (4.98) and 46 gives 13 (5.05), 64 exactly 14, 90 gives 14 (6.98), 91 gives 15 (7.02),
     * and every distance beyond stays 15. The exact powers (16, 32, 64) are where float rounding could lose a bucket.
     */
    @ParameterizedTest
    @CsvSource({"0,0", "-1,1", "-7,7", "-8,8", "-11,8", "-12,9", "-15,9", "-16,10", "-22,10", "-23,11", "-31,11",
        "-32,12", "-45,12", "-46,13", "-63,13", "-64,14", "-90,14", "-91,15", "-127,15", "-128,15", "-511,15",
        "1,17", "7,23", "8,24", "12,25", "16,26", "23,27", "32,28", "46,29", "64,30", "90,30", "91,31", "511,31"})
    void relativePositionBuckets(int keyMinusQuery, int bucket) {
        assertThat(MpnetConfig.positionBucket(keyMinusQuery)).isEqualTo(bucket);
    }

    @Test
    void bucketMatrixIsRowMajorQueryByKey() {
        int[] b = MpnetConfig.positionBuckets(3);
        // q = 0: keys 0, 1, 2 are at +0, +1, +2; q = 2: keys at -2, -1, 0
        assertThat(b).containsExactly(0, 17, 18, 1, 0, 17, 2, 1, 0);
    }

    @Test
    void allMpnetBaseV2Config() throws Exception {
        // sentence-transformers/all-mpnet-base-v2's config.json keys and values
        ArchitectureConfigs.Parsed p = ArchitectureConfigs.parseWithHead(write("""
                {"_name_or_path": "microsoft/mpnet-base", "architectures": ["MPNetForMaskedLM"],
                 "attention_probs_dropout_prob": 0.1, "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu",
                 "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
                 "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "mpnet",
                 "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
                 "relative_attention_num_buckets": 32, "torch_dtype": "float32", "transformers_version": "4.8.2",
                 "vocab_size": 30527}
                """), HeadChoice.NONE);
        MpnetConfig c = (MpnetConfig) p.config();
        assertThat(c.maxSequenceLength()).isEqualTo(512);
        assertThat(c.layerNormEps()).isEqualTo(1e-5);
        assertThat(c.headFamily()).isEqualTo("roberta");
        assertThat(c.expectedTensors()).filteredOn(t -> t.name().equals(MpnetConfig.RELATIVE_BIAS))
                .singleElement().satisfies(t -> assertThat(t.shape()).containsExactly(32, 12));
        assertThat(p.head()).isNull();
    }

    @Test
    void fewerThan32BucketsAreRefusedAndMoreAccepted() throws Exception {
        String base = """
                {"architectures": ["MPNetModel"], "model_type": "mpnet", "vocab_size": 100, "hidden_size": 8,
                 "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
                 "max_position_embeddings": 20, "relative_attention_num_buckets": %d}
                """;
        assertThatThrownBy(() -> ArchitectureConfigs.parse(write(base.formatted(16))))
                .isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config field 'relative_attention_num_buckets' = 16 is not supported")
                .hasMessageContaining("at least 32 rows");
        MpnetConfig c = (MpnetConfig) ArchitectureConfigs.parse(write(base.formatted(64)));
        assertThat(c.relativeBuckets()).isEqualTo(64); // the table's rows; buckets stay 0..31, as in transformers
        assertThat(c.maxSequenceLength()).isEqualTo(18);
    }

    @ParameterizedTest
    @CsvSource({"xlm-roberta,XLMRobertaModel", "xlm-roberta,XLMRobertaForSequenceClassification",
        "camembert,CamembertForMaskedLM"})
    void robertaCodeUnderOtherModelTypes(String type, String architecture) throws Exception {
        ArchitectureConfig c = ArchitectureConfigs.parse(write("""
                {"architectures": ["%s"], "model_type": "%s", "vocab_size": 250002, "hidden_size": 384,
                 "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 1536,
                 "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-05, "pad_token_id": 1}
                """.formatted(architecture, type)));
        BertConfig b = (BertConfig) c;
        assertThat(b.modelType()).isEqualTo(type);
        assertThat(b.headFamily()).isEqualTo("roberta");
        assertThat(b.positionOffset()).isEqualTo(2);
        assertThat(b.maxSequenceLength()).isEqualTo(512);
        assertThat(b.checkpointPrefixes()).contains("roberta.");
    }

    @Test
    void xlmRobertaRefusesWhatRobertaRefuses() throws Exception {
        assertThatThrownBy(() -> ArchitectureConfigs.parse(write("""
                {"architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "vocab_size": 100,
                 "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16,
                 "max_position_embeddings": 20, "position_embedding_type": "relative_key"}
                """))).isInstanceOf(ModelImportException.class)
                .hasMessageContaining("config field 'position_embedding_type' = \"relative_key\" is not supported");
    }

    private Path write(String json) throws Exception {
        Path f = Files.createTempFile(dir, "config", ".json");
        Files.writeString(f, json);
        return f;
    }
}
