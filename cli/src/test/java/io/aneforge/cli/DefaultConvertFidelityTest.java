package io.aneforge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.aneforge.source.MiniLmSnapshot;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code aneforge convert} with its defaults (8 samples, seq 128, fidelity through the reference
 * runtime with FP16 activations) on the real all-MiniLM-L6-v2 writes exactly the variants and
 * fidelity numbers recorded before the fidelity pass was made cheaper
 * ({@code minilm-default-fidelity.json}, from commit a691b22): same archives, same samples, and every
 * metric equal to the last bit. Making the measurement faster must not change what it measures. The
 * archives' sha256 were updated twice since, when the manifest's weights id stopped coming from a sha256
 * of weight.bin (Manifest.forProgram): model.mlmodel and weight.bin kept their bytes, the metrics their bits;
 * and when the package stopped naming its chip (metadata aneforge.build instead of aneforge.variant, so that
 * variants for several chips share it): only model.mlmodel's metadata changed, the metrics kept their bits.
 */
class DefaultConvertFidelityTest {

    @TempDir
    Path dir;

    @Test
    void defaultConvertOfMiniLmReportsTheRecordedFidelityBitForBit() throws Exception {
        Path source = MiniLmSnapshot.write(dir.resolve("all-MiniLM-L6-v2"));
        Path out = dir.resolve("out");
        Cli c = Cli.run("convert", "--source", source.toString(), "--out", out.toString(), "--chips", "A17_PRO",
                "--progress", "plain");
        assertThat(c.code()).as(c.toString()).isZero();

        JsonMapper json = JsonMapper.builder().build();
        JsonNode expected;
        try (InputStream in = getClass().getResourceAsStream("minilm-default-fidelity.json")) {
            expected = json.readTree(in);
        }
        JsonNode actual = json.readTree(out.resolve("variants.json").toFile());
        assertThat(actual.get("samples")).isEqualTo(expected.get("samples"));
        assertThat(actual.get("seqLen")).isEqualTo(expected.get("seqLen"));
        List<String> ids = new ArrayList<>();
        actual.get("variants").forEach(v -> ids.add(v.get("id").asString()));
        List<String> expectedIds = new ArrayList<>();
        expected.get("variants").forEach(v -> expectedIds.add(v.get("id").asString()));
        assertThat(ids).containsExactlyElementsOf(expectedIds);
        for (int i = 0; i < ids.size(); i++) {
            JsonNode a = actual.get("variants").get(i);
            JsonNode e = expected.get("variants").get(i);
            assertThat(a.get("sha256")).as(ids.get(i) + " archive").isEqualTo(e.get("sha256"));
            assertThat(a.get("fidelity")).as(ids.get(i) + " fidelity").isEqualTo(e.get("fidelity"));
        }
    }
}
