package io.aneforge.registry.matrix;

import io.aneforge.registry.matrix.MatrixRecords.Cell;
import io.aneforge.registry.matrix.MatrixRecords.Matrix;
import io.aneforge.registry.matrix.MatrixRecords.Row;
import java.util.ArrayList;
import java.util.List;

/** The matrix as CSV (RFC 4180): one line per variant and compute-units setting. */
final class MatrixCsv {

    static final List<String> HEADER = List.of("model", "version", "variant_id", "cell", "chip", "deployment_target", "layout",
            "precision", "block_size", "quantization", "seq_len", "size_bytes", "variant_gate", "cosine", "fidelity_source",
            "compute_units", "source", "p50_ms", "p90_ms", "load_ms", "estimate_low_ms", "estimate_high_ms", "cell_gate",
            "host", "os_build", "runtime", "runtime_version", "job_id", "job_state", "baseline_p50_ms", "p50_change",
            "regression", "failure");

    private MatrixCsv() {}

    static String render(Matrix m) {
        StringBuilder sb = new StringBuilder();
        line(sb, HEADER);
        for (Row r : m.rows()) {
            List<Cell> cells = new ArrayList<>(r.cells().values());
            if (cells.isEmpty()) cells.add(null); // a variant with no benchmark planned still gets its line
            for (Cell c : cells) {
                List<String> f = new ArrayList<>();
                f.add(m.model());
                f.add(String.valueOf(m.version()));
                f.add(String.valueOf(r.variantId()));
                f.add(r.cell());
                f.add(r.chip());
                f.add(r.deploymentTarget());
                f.add(r.layout());
                f.add(r.precision());
                f.add(str(r.blockSize()));
                f.add(str(r.quantization()));
                f.add(String.valueOf(r.seqLen()));
                f.add(String.valueOf(r.sizeBytes()));
                f.add(r.gateStatus());
                f.add(num(r.fidelity().cosine()));
                f.add(r.fidelity().source());
                boolean has = c != null;
                f.add(has ? c.computeUnits() : "");
                f.add(has ? c.source() : "");
                f.add(has ? num(c.p50Ms()) : "");
                f.add(has ? num(c.p90Ms()) : "");
                f.add(has ? num(c.loadMs()) : "");
                f.add(has ? num(c.estimateLowMs()) : "");
                f.add(has ? num(c.estimateHighMs()) : "");
                f.add(has ? str(c.gate()) : "");
                f.add(has && c.measuredOn() != null ? str(c.measuredOn().host()) : "");
                f.add(has && c.measuredOn() != null ? str(c.measuredOn().osBuild()) : "");
                f.add(has && c.measuredOn() != null ? str(c.measuredOn().runtime()) : "");
                f.add(has && c.measuredOn() != null ? str(c.measuredOn().runtimeVersion()) : "");
                f.add(has ? str(c.jobId()) : "");
                f.add(has ? str(c.jobState()) : "");
                f.add(has ? num(c.baselineP50Ms()) : "");
                f.add(has ? num(c.p50Change()) : "");
                f.add(has && c.regression() ? "true" : "false");
                f.add(has ? str(c.failure()) : "");
                line(sb, f);
            }
        }
        return sb.toString();
    }

    private static String str(Object o) {
        return o == null ? "" : o.toString();
    }

    /** Plain decimal (no exponent), so spreadsheets read it as a number. */
    static String num(Double d) {
        if (d == null) return "";
        if (d.isNaN() || d.isInfinite()) return d.toString();
        return new java.math.BigDecimal(d).round(new java.math.MathContext(8)).stripTrailingZeros().toPlainString();
    }

    private static void line(StringBuilder sb, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) sb.append(',');
            sb.append(escape(fields.get(i)));
        }
        sb.append("\r\n");
    }

    static String escape(String s) {
        if (s == null) return "";
        // A leading =, + or @ would be run as a formula by spreadsheets; host names and reasons are user text.
        // (A leading - is left alone: negative numbers such as p50_change start with it.)
        String v = !s.isEmpty() && "=+@".indexOf(s.charAt(0)) >= 0 ? "'" + s : s;
        if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
            return "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }
}
