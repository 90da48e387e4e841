package io.aneforge.registry.matrix;

import io.aneforge.registry.matrix.MatrixRecords.Cell;
import io.aneforge.registry.matrix.MatrixRecords.Estimate;
import io.aneforge.registry.matrix.MatrixRecords.Fidelity;
import io.aneforge.registry.matrix.MatrixRecords.Matrix;
import io.aneforge.registry.matrix.MatrixRecords.MeasuredOn;
import io.aneforge.registry.matrix.MatrixRecords.Protocol;
import io.aneforge.registry.matrix.MatrixRecords.Row;
import io.aneforge.registry.matrix.MatrixRecords.RowDelta;
import java.util.ArrayList;
import java.util.List;

/**
 * The matrix as CSV (RFC 4180): one line per variant and compute-units setting, every field of the row and
 * the cell flattened into a column (docs/qa.md lists them). Columns are only ever appended, so a spreadsheet
 * or script that reads them by position keeps working.
 */
final class MatrixCsv {

    static final List<String> HEADER = List.of("model", "version", "variant_id", "cell", "chip", "deployment_target", "layout",
            "precision", "block_size", "quantization", "seq_len", "size_bytes", "variant_gate", "cosine", "fidelity_source",
            "compute_units", "source", "p50_ms", "p90_ms", "load_ms", "estimate_low_ms", "estimate_high_ms", "cell_gate",
            "host", "os_build", "runtime", "runtime_version", "job_id", "job_state", "baseline_p50_ms", "p50_change",
            "regression", "failure",
            // appended: the rest of the JSON's row and cell fields
            "version_status", "baseline_version", "variant_status", "yank_reason", "baseline_row", "gate_reasons",
            "digest", "download_url",
            "fidelity_job_id", "fidelity_job_state", "fidelity_failure", "fidelity_host", "fidelity_os_name",
            "fidelity_os_version", "fidelity_os_build", "fidelity_chip", "fidelity_runtime", "fidelity_runtime_version",
            "baseline_cosine", "cosine_change", "cosine_regression", "cosine_regression_reasons",
            "estimate_bound_by", "estimate_flops", "estimate_bytes", "estimate_basis", "estimate_unavailable",
            "os_name", "os_version", "measured_chip",
            "warmup_iterations", "timed_iterations", "max_duration_ms", "samples",
            "waiting_for", "fidelity_waiting_for",
            "min_cosine",
            "fidelity_held_positions_only");

    /** Joins the items of a list field (gate reasons): "; " and "," occur inside the reasons themselves. */
    static final String LIST_SEPARATOR = " | ";

    private MatrixCsv() {}

    static String render(Matrix m) {
        StringBuilder sb = new StringBuilder();
        List<Object> header = new ArrayList<>(HEADER);
        line(sb, header);
        for (Row r : m.rows()) {
            List<Cell> cells = new ArrayList<>(r.cells().values());
            if (cells.isEmpty()) cells.add(null); // a variant with no benchmark planned still gets its line
            for (Cell c : cells) {
                // Strings are text (formula-escaped), numbers and booleans are written plainly, null is empty.
                List<Object> f = new ArrayList<>();
                Fidelity fid = r.fidelity();
                f.add(m.model());
                f.add(m.version());
                f.add(r.variantId());
                f.add(r.cell());
                f.add(r.chip());
                f.add(r.deploymentTarget());
                f.add(r.layout());
                f.add(r.precision());
                f.add(r.blockSize());
                f.add(r.quantization());
                f.add(r.seqLen());
                f.add(r.sizeBytes());
                f.add(r.gateStatus());
                f.add(fid.cosine());
                f.add(fid.source());
                boolean has = c != null;
                MeasuredOn on = has ? c.measuredOn() : null;
                f.add(has ? c.computeUnits() : null);
                f.add(has ? c.source() : null);
                f.add(has ? c.p50Ms() : null);
                f.add(has ? c.p90Ms() : null);
                f.add(has ? c.loadMs() : null);
                f.add(has ? c.estimateLowMs() : null);
                f.add(has ? c.estimateHighMs() : null);
                f.add(has ? c.gate() : null);
                f.add(on == null ? null : on.host());
                f.add(on == null ? null : on.osBuild());
                f.add(on == null ? null : on.runtime());
                f.add(on == null ? null : on.runtimeVersion());
                f.add(has ? c.jobId() : null);
                f.add(has ? c.jobState() : null);
                f.add(has ? c.baselineP50Ms() : null);
                f.add(has ? c.p50Change() : null);
                f.add(has ? c.regression() : null); // empty when not compared, not false
                f.add(has ? c.failure() : null);

                f.add(m.versionStatus());
                f.add(m.baseline());
                f.add(r.status());
                f.add(r.yankReason());
                f.add(r.baselineRow());
                f.add(String.join(LIST_SEPARATOR, r.gateReasons()));
                f.add(r.digest());
                f.add(r.downloadUrl());
                MeasuredOn fon = fid.measuredOn();
                f.add(fid.jobId());
                f.add(fid.jobState());
                f.add(fid.failure());
                f.add(fon == null ? null : fon.host());
                f.add(fon == null ? null : fon.osName());
                f.add(fon == null ? null : fon.osVersion());
                f.add(fon == null ? null : fon.osBuild());
                f.add(fon == null ? null : fon.chip());
                f.add(fon == null ? null : fon.runtime());
                f.add(fon == null ? null : fon.runtimeVersion());
                RowDelta d = r.delta();
                f.add(d == null ? null : d.baselineCosine());
                f.add(d == null ? null : d.cosineChange());
                f.add(d == null ? null : d.regression());
                f.add(d == null ? null : String.join(LIST_SEPARATOR, d.reasons()));
                Estimate e = r.estimate();
                f.add(e == null ? null : e.boundBy());
                f.add(e == null ? null : e.flops());
                f.add(e == null ? null : e.bytes());
                f.add(e == null ? null : e.basis());
                f.add(r.estimateUnavailable());
                f.add(on == null ? null : on.osName());
                f.add(on == null ? null : on.osVersion());
                f.add(on == null ? null : on.chip());
                Protocol p = has ? c.protocol() : null;
                f.add(p == null ? null : p.warmupIterations());
                f.add(p == null ? null : p.timedIterations());
                f.add(p == null ? null : p.maxDurationMs());
                f.add(p == null ? null : p.samples());
                f.add(has ? c.waitingFor() : null);
                f.add(fid.waitingFor());
                f.add(r.minCosine());
                f.add(fid.heldPositionsOnly());
                line(sb, f);
            }
        }
        return sb.toString();
    }

    /** Plain decimal (no exponent), so spreadsheets read it as a number. */
    static String num(Double d) {
        if (d == null) return "";
        if (d.isNaN() || d.isInfinite()) return d.toString();
        return new java.math.BigDecimal(d).round(new java.math.MathContext(8)).stripTrailingZeros().toPlainString();
    }

    private static void line(StringBuilder sb, List<Object> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) sb.append(',');
            Object v = fields.get(i);
            if (v == null) continue;
            if (v instanceof Double d) sb.append(num(d));
            else if (v instanceof Number || v instanceof Boolean) sb.append(v);
            else sb.append(escape(v.toString()));
        }
        sb.append("\r\n");
    }

    /**
     * A text field, RFC 4180 quoted where needed. Text that a spreadsheet would run as a formula gets a leading
     * {@code '} (OWASP's CSV-injection advice): one starting with {@code =}, {@code +}, {@code -}, {@code @}, a tab,
     * CR or LF. Host names, failure reasons and build strings are agents' text. Numbers are not text: they are
     * written by {@link #num} and never reach this, so a negative {@code p50_change} stays a number.
     */
    static String escape(String s) {
        if (s == null) return "";
        String v = !s.isEmpty() && "=+-@\t\r\n".indexOf(s.charAt(0)) >= 0 ? "'" + s : s;
        if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
            return "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }
}
