package io.aneforge.registry.matrix;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.estimate.LatencyEstimate;
import io.aneforge.estimate.Roofline;
import io.aneforge.gate.BaselineComparison;
import io.aneforge.gate.CellDelta;
import io.aneforge.gate.CellValues;
import io.aneforge.gate.GateEvaluator;
import io.aneforge.gate.GateResult;
import io.aneforge.gate.GateStatus;
import io.aneforge.gate.Gates;
import io.aneforge.gate.RegressionThresholds;
import io.aneforge.gate.VariantFacts;
import io.aneforge.gate.VersionVerdict;
import io.aneforge.registry.RegistryProperties;
import io.aneforge.registry.agent.Agent;
import io.aneforge.registry.agent.Agents;
import io.aneforge.registry.job.Jobs;
import io.aneforge.registry.matrix.MatrixRecords.Cell;
import io.aneforge.registry.matrix.MatrixRecords.Estimate;
import io.aneforge.registry.matrix.MatrixRecords.Fidelity;
import io.aneforge.registry.matrix.MatrixRecords.Matrix;
import io.aneforge.registry.matrix.MatrixRecords.MeasuredOn;
import io.aneforge.registry.matrix.MatrixRecords.Protocol;
import io.aneforge.registry.matrix.MatrixRecords.Row;
import io.aneforge.registry.matrix.MatrixRecords.RowDelta;
import io.aneforge.registry.matrix.MatrixRecords.Verdict;
import io.aneforge.registry.model.Models;
import io.aneforge.registry.problem.ApiProblem;
import io.aneforge.registry.variant.Variants;
import io.aneforge.runtime.RuntimeOptions;
import io.aneforge.variant.Precision;
import io.aneforge.variant.PrecisionSelector;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Service;

/**
 * Builds a version's matrix from the registry's variants, jobs and results, and the gate verdict
 * that promotion checks. Rows are variants; columns are Core ML compute-units settings.
 */
@Service
public class Matrices {

    /** {@link Variants#QUANTIZATIONS} as an SQL array literal: rows of a cell list in that order. */
    private static final String QUANTIZATION_ARRAY = Variants.QUANTIZATIONS.stream().map(q -> "'" + q + "'")
            .collect(java.util.stream.Collectors.joining(", ", "ARRAY[", "]"));

    private final JdbcClient jdbc;
    private final Models models;
    private final ModelGates gates;
    private final PackageCosts costs;
    private final ChipCatalog chips;
    private final String baseUrl;
    private final Agents agents;

    Matrices(JdbcClient jdbc, Models models, ModelGates gates, PackageCosts costs, ChipCatalog chips,
             RegistryProperties props, Agents agents) {
        this.jdbc = jdbc;
        this.agents = agents;
        this.models = models;
        this.gates = gates;
        this.costs = costs;
        this.chips = chips;
        this.baseUrl = props.publicBaseUrl() == null ? "" : props.publicBaseUrl();
    }

    // ---- what the database knows -------------------------------------------------------------

    /** @param withoutGoldenData who published the version without golden data and why, else null */
    record VersionKey(long id, long modelId, String model, int version, String status, String yankReason,
                      Models.WithoutGoldenData withoutGoldenData) {

        boolean yanked() {
            return "yanked".equals(status);
        }

        /**
         * The verdict's line for a version published without golden data: none of its jobs could run (accuracy and
         * benchmarks both need the golden inputs), so they were cancelled, and nothing but the artifact size is known.
         */
        String notChecked() {
            return "version " + version + " of '" + model + "' was " + NOT_CHECKED + " and not benchmarked (published so"
                    + " by " + withoutGoldenData.by() + ": " + withoutGoldenData.reason() + "); to have it checked, publish"
                    + " a new version with golden data";
        }
    }

    /** The plain words the matrix and verdict use for a version published without golden data. */
    static final String NOT_CHECKED = Jobs.NOT_CHECKED;

    record VariantRow(long id, String chip, String target, String layout, String precision, Integer blockSize,
                      String quantization, int seqLen, String digestHex, long size, String status, String yankReason) {

        /** int8-block32, int8-block32-affine, int4-block32-mse, fp16: the full scheme, so rows of different modes never share a label. */
        String precisionId() {
            return Variants.fullScheme(precision, blockSize, quantization);
        }

        /**
         * The precision the gates pick this row's cosine limit by: exactly its precision, or its family for a legacy row
         * that names no full precision (an int4 row without a block size).
         */
        PrecisionSelector precisionSelector() {
            try {
                return PrecisionSelector.of(Precision.ofRegistry(precision, blockSize, quantization));
            } catch (IllegalArgumentException legacy) {
                return PrecisionSelector.family(precision);
            }
        }

        /** Version-independent identity, readable: the key of baseline comparisons. */
        String canonical() {
            return chip + ("standard".equals(layout) ? " standard " : " ") + precisionId() + " seq" + seqLen + " iOS" + target;
        }
    }

    /** @param heldPositionsOnly some output was compared at golden format 3's held positions only (comparedPositions) */
    record Result(MeasuredOn on, Protocol protocol, Double p50, Double p90, Double load, Double cosine,
                  boolean heldPositionsOnly) {}

    /** @param waitingFor why a pending job is not run yet ({@link Jobs#waitingFor}), else null */
    record JobRow(long id, long variantId, String kind, String computeUnits, String state, String failure, Result result,
                  String waitingFor) {}

    record Snapshot(VersionKey version, Optional<Gates> gates, List<VariantRow> variants, Map<Long, String> labels,
                    Set<Long> baselineRows, Map<Long, List<JobRow>> jobs) {

        Gates effectiveGates() {
            return gates.orElse(Gates.NONE);
        }
    }

    private VersionKey versionKey(String model, int version) {
        models.version(model, version); // 404s with the registry's own messages
        return jdbc.sql("SELECT v.id, v.model_id, m.name, v.version, v.status, v.yank_reason, v.published_without_golden_by,"
                        + " v.published_without_golden_reason FROM model_version v JOIN model m"
                        + " ON m.id = v.model_id WHERE m.name = ? AND v.version = ?")
                .params(model, version)
                .query((rs, i) -> new VersionKey(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getInt(4), rs.getString(5),
                        rs.getString(6), rs.getString(7) == null ? null : new Models.WithoutGoldenData(rs.getString(7),
                        rs.getString(8))))
                .single();
    }

    private Snapshot load(VersionKey v) {
        List<VariantRow> variants = jdbc.sql("SELECT id, chip, deployment_target, layout, precision, block_size, seq_len,"
                        + " blob_digest, size, status, quantization, yank_reason FROM variant WHERE version_id = ?"
                        + " ORDER BY chip, layout, precision, block_size NULLS FIRST, array_position(" + QUANTIZATION_ARRAY + ", quantization) NULLS FIRST, seq_len,"
                        + " deployment_target, id")
                .param(v.id())
                .query((rs, i) -> {
                    int b = rs.getInt(6);
                    Integer block = rs.wasNull() ? null : b;
                    return new VariantRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                            block, rs.getString(11), rs.getInt(7), rs.getString(8), rs.getLong(9), rs.getString(10),
                            rs.getString(12));
                })
                .list();
        // The rows first, the agents after: asking for the online agents while the job query still streams its rows
        // took a second pooled connection per matrix request (found by review: a pool full of matrix requests each
        // waiting for its second connection failed them all with 500s after the connection timeout).
        record Read(JobRow row, boolean ready, String runtime, String chip, int goldenFormat) {}
        List<Read> read = jdbc.sql("""
                        SELECT j.id, j.variant_id, j.kind, j.compute_units, j.state, j.failure_reason,
                               r.host_name, r.os_name, r.os_version, r.os_build, r.chip, r.runtime, r.runtime_version,
                               r.warmup_iterations, r.timed_iterations, r.max_duration_ms, r.latency_n,
                               r.latency_p50_ms, r.latency_p90_ms, r.load_ms, r.cosine_min, r.id,
                               j.ready, j.runtime, j.chip, j.golden_format,
                               (SELECT bool_or(o.value -> 'comparedPositions' IS NOT NULL) FROM jsonb_each(
                                       CASE WHEN jsonb_typeof(r.fidelity) = 'object' THEN r.fidelity END) o)
                          FROM job j JOIN variant v ON v.id = j.variant_id
                          LEFT JOIN LATERAL (SELECT * FROM job_result x WHERE x.job_id = j.id AND x.outcome = 'succeeded'
                                             ORDER BY x.attempt DESC LIMIT 1) r ON true
                         WHERE v.version_id = ? ORDER BY j.id""")
                .param(v.id())
                .query((rs, i) -> new Read(new JobRow(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                        rs.getString(5), rs.getString(6), result(rs), null), rs.getBoolean(23), rs.getString(24),
                        rs.getString(25), rs.getInt(26)))
                .list();
        // read once, and only when some job is pending (a finished version's matrix costs no agent query)
        java.util.function.Supplier<List<Agent>> online = memoize(agents::onlineAgents);
        Map<Long, List<JobRow>> jobs = new HashMap<>();
        for (Read r : read) {
            JobRow j = r.row();
            if ("pending".equals(j.state())) {
                j = new JobRow(j.id(), j.variantId(), j.kind(), j.computeUnits(), j.state(), j.failure(), j.result(),
                        Jobs.waitingFor(r.ready(), r.runtime(), r.chip(), r.goldenFormat(), r.ready() ? online.get() : List.of(),
                        v.version()));
            }
            jobs.computeIfAbsent(j.variantId(), k -> new ArrayList<>()).add(j);
        }
        // Gates that set no limit (cleared with PUT {}) check nothing: shown as no gates (NO_GATES), never a green PASS.
        return new Snapshot(v, gates.gatesOf(v.modelId()).filter(g -> !g.checksNothing()), variants, labels(variants),
                baselineRows(variants), jobs);
    }

    private static <T> java.util.function.Supplier<T> memoize(java.util.function.Supplier<T> source) {
        Object[] held = new Object[1];
        return () -> {
            if (held[0] == null) held[0] = source.get();
            @SuppressWarnings("unchecked") T t = (T) held[0];
            return t;
        };
    }

    private static Result result(ResultSet rs) throws SQLException {
        if (rs.getObject(22) == null) return null;
        MeasuredOn on = new MeasuredOn(rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                rs.getString(11), rs.getString(12), rs.getString(13));
        Protocol p = rs.getObject(14) == null ? null : new Protocol((Integer) rs.getObject(14), (Integer) rs.getObject(15),
                (Long) rs.getObject(16), (Integer) rs.getObject(17));
        return new Result(on, p, (Double) rs.getObject(18), (Double) rs.getObject(19), (Double) rs.getObject(20),
                (Double) rs.getObject(21), rs.getBoolean(27));
    }

    /** "A17_PRO int8-block32"; the sequence length and target are appended only where needed to tell rows apart. */
    static Map<Long, String> labels(List<VariantRow> variants) {
        Map<Long, String> out = new LinkedHashMap<>();
        Map<String, Integer> count = new HashMap<>();
        Map<String, Integer> countSeq = new HashMap<>();
        for (VariantRow v : variants) {
            count.merge(base(v), 1, Integer::sum);
            countSeq.merge(base(v) + " seq" + v.seqLen(), 1, Integer::sum);
        }
        for (VariantRow v : variants) {
            String label = base(v);
            if (count.get(label) > 1) {
                label += " seq" + v.seqLen();
                if (countSeq.get(label) > 1) label += " iOS" + v.target();
            }
            out.put(v.id(), label);
        }
        return out;
    }

    private static String base(VariantRow v) {
        return v.chip() + ("standard".equals(v.layout()) ? " standard " : " ") + v.precisionId();
    }

    /**
     * The recipe's comparison variants: standard-layout fp16 on a chip that also has ANE-layout
     * variants. A standard fp16 variant that is the only layout of its chip is what ships, so it is gated.
     */
    static Set<Long> baselineRows(List<VariantRow> variants) {
        Set<String> aneChips = new LinkedHashSet<>();
        for (VariantRow v : variants) if ("ane".equals(v.layout()) && "available".equals(v.status())) aneChips.add(v.chip());
        Set<Long> out = new LinkedHashSet<>();
        for (VariantRow v : variants) {
            if ("standard".equals(v.layout()) && "fp16".equals(v.precision()) && aneChips.contains(v.chip())) out.add(v.id());
        }
        return out;
    }

    // ---- gates -----------------------------------------------------------------------------------

    private static VariantFacts facts(Snapshot s, VariantRow v) {
        Map<String, Double> p50 = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        Double cosine = null;
        List<JobRow> jobs = s.jobs().getOrDefault(v.id(), List.of());
        for (JobRow j : jobs) {
            if (CANCELLED_STATE.equals(j.state())) continue; // withdrawn with a yank: no result is coming, none is awaited
            if ("benchmark".equals(j.kind())) {
                if ("failed".equals(j.state())) {
                    errors.add(j.computeUnits() + " benchmark failed (job " + j.id() + "): " + j.failure());
                } else if (!p50.containsKey(j.computeUnits()) || p50.get(j.computeUnits()) == null) {
                    p50.put(j.computeUnits(), j.result() == null ? null : j.result().p50());
                }
            }
        }
        JobRow accuracy = accuracyJob(jobs);
        if (accuracy != null && !CANCELLED_STATE.equals(accuracy.state())) {
            if ("failed".equals(accuracy.state())) {
                errors.add("accuracy run failed (job " + accuracy.id() + "): " + accuracy.failure());
            } else if (accuracy.result() != null) {
                cosine = accuracy.result().cosine();
            }
        }
        return new VariantFacts(String.valueOf(v.id()), v.chip(), v.precisionSelector(), s.labels().get(v.id()), v.size(),
                cosine, p50, errors, s.baselineRows().contains(v.id()));
    }

    /** The verdict of a model without gates: nothing is gated, so it passes whatever the results say. */
    private static final VersionVerdict UNGATED = new VersionVerdict(GateStatus.PASS, List.of(), List.of(), List.of(), List.of());

    /**
     * The one gate verdict, shown by the matrix and checked by promotion: {@link #UNGATED} for a model
     * without gates, else {@link GateEvaluator#rollUp} over the version's available variants.
     */
    private static VersionVerdict verdict(Snapshot s) {
        if (s.gates().isEmpty()) return UNGATED;
        List<VariantFacts> facts = new ArrayList<>();
        for (VariantRow v : s.variants()) if ("available".equals(v.status())) facts.add(facts(s, v));
        VersionVerdict rolled = GateEvaluator.rollUp(s.gates().get(), facts);
        return s.version().withoutGoldenData() == null ? rolled : notChecked(rolled, s.version(), facts);
    }

    /**
     * The verdict of a version published without golden data: never PASS (gates that set only a size limit would pass
     * it, with accuracy and latency unknown). A variant that passed is INCOMPLETE with the reason; FAIL stays FAIL; the
     * version is INCOMPLETE unless a variant fails, so promotion refuses it without an admin's override.
     */
    private static VersionVerdict notChecked(VersionVerdict rolled, VersionKey v, List<VariantFacts> facts) {
        Set<String> baselines = new java.util.HashSet<>();
        for (VariantFacts f : facts) if (f.baseline()) baselines.add(f.variantId());
        List<GateResult> results = new ArrayList<>();
        List<String> pending = new ArrayList<>(rolled.pendingCells());
        for (GateResult r : rolled.variants()) {
            if (r.status() != GateStatus.PASS) {
                results.add(r);
                continue;
            }
            results.add(new GateResult(r.variantId(), r.cell(), GateStatus.INCOMPLETE, List.of(r.cell() + ": " + NOT_CHECKED)));
            if (!baselines.contains(r.variantId())) pending.add(r.cell());
        }
        List<String> reasons = new ArrayList<>(rolled.reasons());
        reasons.add(v.notChecked());
        GateStatus status = rolled.status() == GateStatus.FAIL ? GateStatus.FAIL : GateStatus.INCOMPLETE;
        return new VersionVerdict(status, rolled.failingCells(), pending, reasons, results);
    }

    /** The verdict promotion checks: {@link #verdict(Snapshot)}, without reading the results when there are no gates. */
    public VersionVerdict promotionVerdict(long modelId, String model, int version) {
        if (gates.gatesOf(modelId).isEmpty()) return UNGATED;
        return verdict(load(versionKey(model, version)));
    }

    // ---- the matrix ------------------------------------------------------------------------------

    public Matrix matrix(String model, int version, Integer baselineVersion) {
        VersionKey key = versionKey(model, version);
        Snapshot s = load(key);
        Snapshot base = null;
        if (baselineVersion != null) {
            if (baselineVersion == version) {
                throw ApiProblem.badRequest("invalid-baseline", "Invalid baseline",
                        "baseline " + baselineVersion + " is the version itself; pass another version of '" + model + "'");
            }
            base = load(versionKey(model, baselineVersion));
        }
        VersionVerdict verdict = verdict(s);
        Map<String, GateResult> byVariant = new HashMap<>();
        for (GateResult r : verdict.variants()) byVariant.put(r.variantId(), r);

        // Baseline deltas: latency per (variant, setting), cosine per variant, keyed version-independently.
        Map<String, CellDelta> latencyDelta = new HashMap<>();
        Map<String, CellDelta> cosineDelta = new HashMap<>();
        List<String> regressions = new ArrayList<>();
        List<String> notCompared = new ArrayList<>();
        if (base != null) {
            BaselineComparison lat = BaselineComparison.compare(latencyValues(base), latencyValues(s), RegressionThresholds.DEFAULT);
            BaselineComparison cos = BaselineComparison.compare(cosineValues(base), cosineValues(s), RegressionThresholds.DEFAULT);
            lat.cells().forEach(c -> latencyDelta.put(c.cell(), c));
            cos.cells().forEach(c -> cosineDelta.put(c.cell(), c));
            for (CellDelta c : cos.cells()) regressions.addAll(c.reasons());
            for (CellDelta c : lat.cells()) regressions.addAll(c.reasons());
            // Named apart from "no regression": a cell with a result on one side only was not compared at all.
            for (CellDelta c : cos.cells()) {
                if (c.cosineChange() == null) notCompared.add(notCompared(c, "cosine", baselineVersion, version));
            }
            for (CellDelta c : lat.cells()) {
                if (c.latencyChange() == null) notCompared.add(notCompared(c, "p50", baselineVersion, version));
            }
        }

        Set<String> planned = new LinkedHashSet<>();
        s.jobs().values().forEach(l -> l.forEach(j -> {
            if ("benchmark".equals(j.kind())) planned.add(j.computeUnits());
        }));
        List<String> columns = RuntimeOptions.COMPUTE_UNITS.stream().filter(planned::contains).toList();

        Gates g = s.effectiveGates();
        // one query for the stored costs of every package of the version, not one per row
        Map<String, PackageCosts.Outcome> outcomes = costs.costs(s.variants().stream()
                .map(v -> new PackageCosts.Package(v.digestHex(), v.size())).toList());
        List<Row> rows = new ArrayList<>();
        for (VariantRow v : s.variants()) {
            PackageCosts.Outcome cost = outcomes.get(v.digestHex());
            Estimate estimate = null;
            String unavailable = cost.unavailable();
            Optional<Chip> chip = chips.chip(v.chip());
            if (cost.cost() != null && chip.isPresent()) {
                LatencyEstimate e = Roofline.estimate(cost.cost(), chip.get());
                estimate = new Estimate(e.chip(), e.lowMs(), e.highMs(), e.boundBy().name(), e.flops(), e.bytes(),
                        e.basis() + ESTIMATE_SCOPE, e.source(), NEURAL_ENGINE_UNITS);
            } else if (cost.cost() != null) {
                unavailable = "chip " + v.chip() + " is not in the chip catalog";
            }
            // a yanked variant, or any variant of a yanked version, waits for nothing: its open jobs were cancelled
            String yankReason = "yanked".equals(v.status()) ? v.yankReason() : key.yanked() ? key.yankReason() : null;
            boolean yanked = "yanked".equals(v.status()) || key.yanked();
            Double limit = g.latencyLimitMs(v.chip());
            Map<String, Cell> cells = new LinkedHashMap<>();
            Fidelity fidelity = fidelity(accuracyJob(s.jobs().getOrDefault(v.id(), List.of())));
            for (JobRow j : s.jobs().getOrDefault(v.id(), List.of())) {
                if (!"benchmark".equals(j.kind())) continue;
                if (cells.containsKey(j.computeUnits())) continue;
                CellDelta d = latencyDelta.get(v.canonical() + " on " + j.computeUnits());
                cells.put(j.computeUnits(), cell(j, NEURAL_ENGINE_UNITS.contains(j.computeUnits()) ? estimate : null, limit,
                        s.gates().isPresent(), d));
            }
            if (yanked && MatrixRecords.PENDING.equals(fidelity.source())) {
                fidelity = new Fidelity(MatrixRecords.CANCELLED, null, fidelity.jobId(), fidelity.jobState(),
                        "no accuracy result: yanked (" + yankReason + ")", null, null, null);
            }
            GateResult gr = byVariant.get(String.valueOf(v.id()));
            CellDelta cd = cosineDelta.get(v.canonical());
            RowDelta delta = cd == null || cd.baseline() == null ? null
                    : new RowDelta(cd.baseline().cosine(), cd.cosineChange(),
                            cd.cosineChange() == null ? null : cd.regression(), cd.reasons());
            // Without gates nothing was checked: NO_GATES, never a green PASS (promotion still lets it through).
            String gateStatus = yanked ? YANKED : s.gates().isEmpty() ? NO_GATES
                    : gr == null ? GateStatus.PASS.name() : gr.status().name();
            List<String> gateReasons = yanked || gr == null ? List.of() : gr.reasons();
            rows.add(new Row(v.id(), s.labels().get(v.id()), v.chip(), v.target(), v.layout(), v.precision(), v.blockSize(),
                    v.quantization(), v.seqLen(), v.size(), "sha256:" + v.digestHex(), baseUrl + "/api/v1/blobs/sha256:" + v.digestHex(),
                    v.status(), s.baselineRows().contains(v.id()), fidelity, cells, gateStatus, gateReasons, estimate,
                    estimate == null ? unavailable : null, delta, yankReason,
                    s.gates().isEmpty() ? null : g.cosineLimit(v.precisionSelector())));
        }
        Verdict shown = key.yanked()
                ? new Verdict(YANKED, List.of(), List.of(), List.of("version " + key.version() + " of '" + key.model()
                        + "' was yanked (" + key.yankReason() + "); its open jobs were cancelled and it cannot be promoted"))
                : s.gates().isEmpty() ? ungatedVerdict(key, rows.isEmpty())
                : new Verdict(verdict.status().name(), verdict.failingCells(), verdict.pendingCells(),
                        verdict.status() == GateStatus.INCOMPLETE ? withWaiting(verdict.reasons(), rows) : verdict.reasons());
        return new Matrix(key.model(), key.version(), key.status(), baselineVersion, g, s.gates().isPresent(), shown,
                columns, rows, regressions, key.yankReason(), base != null ? RegressionThresholds.DEFAULT : null,
                notCompared, key.withoutGoldenData());
    }

    /** "A17_PRO ane fp16 on cpuOnly: p50 not compared (no result in v1)"; the key side that lacks a number. */
    private static String notCompared(CellDelta c, String what, int baselineVersion, int version) {
        String missing = c.baseline() == null ? "no result in v" + baselineVersion
                : c.candidate() == null ? "no result in v" + version : "no result on one side";
        return c.cell() + ": " + what + " not compared (" + missing + ")";
    }

    /**
     * An INCOMPLETE verdict's reasons, then one line per reason jobs wait for ("3 jobs wait: no online agent offers
     * runtime 'coreml' on chip A17_PRO"), so the verdict names what it waits for, not only which cells.
     */
    static List<String> withWaiting(List<String> reasons, List<Row> rows) {
        Map<String, Integer> waiting = new LinkedHashMap<>();
        for (Row r : rows) {
            if (r.fidelity().waitingFor() != null) waiting.merge(r.fidelity().waitingFor(), 1, Integer::sum);
            for (Cell c : r.cells().values()) if (c.waitingFor() != null) waiting.merge(c.waitingFor(), 1, Integer::sum);
        }
        if (waiting.isEmpty()) return reasons;
        List<String> out = new ArrayList<>(reasons);
        waiting.forEach((why, n) -> out.add(n + (n == 1 ? " job waits: " : " jobs wait: ") + why));
        return out;
    }

    private static final String YANKED = "YANKED";
    /**
     * The shown status of a model without gates, for the version and each row. Promotion treats it as a pass
     * ({@link #UNGATED}), but the matrix must not call unchecked results PASS: a failed run or an empty matrix
     * would read as green.
     */
    static final String NO_GATES = "NO_GATES";

    private static Verdict ungatedVerdict(VersionKey key, boolean noRows) {
        List<String> reasons = new ArrayList<>();
        reasons.add("no gates set, so nothing is checked (an alias may still point at this version): set them with"
                + " PUT /api/v1/models/" + key.model() + "/gates");
        if (noRows) reasons.add("no variants yet");
        if (key.withoutGoldenData() != null) reasons.add(key.notChecked());
        return new Verdict(NO_GATES, List.of(), List.of(), reasons);
    }

    private static final String CANCELLED_STATE = "cancelled";

    /**
     * The settings a roofline estimate stands for: it is computed from the Neural Engine's figures, so only
     * cells that may run there show it; the chip catalog has no CPU or GPU figures for the others.
     */
    static final List<String> NEURAL_ENGINE_UNITS = List.of("cpuAndNeuralEngine", "all");

    private static final String ESTIMATE_SCOPE = "; shown on the cpuAndNeuralEngine and all settings only (Neural Engine"
            + " figures): no estimate for cpuOnly or cpuAndGPU, whose CPU and GPU roofs the chip catalog does not have";

    /**
     * The accuracy job that stands for a variant (jobs in id order). A version's accuracy jobs can be queued again
     * ({@code POST .../accuracy-runs}), so a variant may have several runs: the newest finished one (failed, or with
     * a cosine) decides, so a re-run replaces the earlier result when it reports, and the earlier result stands
     * until then (all results stay listed under {@code .../results}). With none finished, the newest open one
     * (pending), else the newest cancelled one; null without an accuracy job.
     */
    static JobRow accuracyJob(List<JobRow> jobs) {
        JobRow finished = null;
        JobRow open = null;
        JobRow cancelled = null;
        for (JobRow j : jobs) {
            if ("benchmark".equals(j.kind())) continue;
            if ("failed".equals(j.state()) || (j.result() != null && j.result().cosine() != null)) {
                finished = j;
            } else if (CANCELLED_STATE.equals(j.state())) {
                cancelled = j;
            } else {
                open = j;
            }
        }
        return finished != null ? finished : open != null ? open : cancelled;
    }

    private static Fidelity fidelity(JobRow j) {
        if (j == null) {
            return new Fidelity(MatrixRecords.PENDING, null, null, null, null, null, null, null);
        }
        if (CANCELLED_STATE.equals(j.state()) && j.result() == null) {
            return new Fidelity(MatrixRecords.CANCELLED, null, j.id(), j.state(), j.failure(), null, null, null);
        }
        if ("failed".equals(j.state())) {
            return new Fidelity(MatrixRecords.FAILED, null, j.id(), j.state(), j.failure(), null, null, null);
        }
        if (j.result() != null && j.result().cosine() != null) {
            return new Fidelity(MatrixRecords.MEASURED, j.result().cosine(), j.id(), j.state(), null, j.result().on(), null,
                    j.result().heldPositionsOnly());
        }
        return new Fidelity(MatrixRecords.PENDING, null, j.id(), j.state(), null, null, j.waitingFor(), null);
    }

    /** @param gated the model has gates: a failed run fails the variant (without gates nothing does) */
    private static Cell cell(JobRow j, Estimate estimate, Double limit, boolean gated, CellDelta d) {
        Double baseP50 = d == null || d.baseline() == null ? null : d.baseline().p50Ms();
        Double change = d == null ? null : d.latencyChange();
        // null, not false, when nothing was compared: "no regression" must not read the same as "not compared"
        Boolean regression = d == null || d.latencyChange() == null ? null : d.regression();
        if (CANCELLED_STATE.equals(j.state()) && (j.result() == null || j.result().p50() == null)) {
            return new Cell(j.computeUnits(), MatrixRecords.CANCELLED, null, null, null, null, null, j.id(), j.state(),
                    j.failure(), null, null, null, baseP50, null, null, null);
        }
        if ("failed".equals(j.state())) {
            return new Cell(j.computeUnits(), MatrixRecords.FAILED, null, null, null, null, null, j.id(), j.state(),
                    j.failure(), null, null, gated ? "FAIL" : null, baseP50, null, null, null);
        }
        Result r = j.result();
        if (r != null && r.p50() != null) {
            String gate = limit == null ? null : r.p50() <= limit ? "PASS" : "FAIL";
            return new Cell(j.computeUnits(), MatrixRecords.MEASURED, r.p50(), r.p90(), r.load(), null, null, j.id(),
                    j.state(), null, r.on(), r.protocol(), gate, baseP50, change, regression, null);
        }
        if (estimate != null) {
            return new Cell(j.computeUnits(), MatrixRecords.ESTIMATED, null, null, null, estimate.lowMs(), estimate.highMs(),
                    j.id(), j.state(), null, null, null, null, baseP50, null, null, j.waitingFor());
        }
        return new Cell(j.computeUnits(), MatrixRecords.PENDING, null, null, null, null, null, j.id(), j.state(), null,
                null, null, null, baseP50, null, null, j.waitingFor());
    }

    private static Map<String, CellValues> latencyValues(Snapshot s) {
        Map<String, CellValues> out = new LinkedHashMap<>();
        for (VariantRow v : s.variants()) {
            for (JobRow j : s.jobs().getOrDefault(v.id(), List.of())) {
                if ("benchmark".equals(j.kind()) && j.result() != null && j.result().p50() != null) {
                    out.putIfAbsent(v.canonical() + " on " + j.computeUnits(), new CellValues(null, j.result().p50()));
                }
            }
        }
        return out;
    }

    private static Map<String, CellValues> cosineValues(Snapshot s) {
        Map<String, CellValues> out = new LinkedHashMap<>();
        for (VariantRow v : s.variants()) {
            Double cos = facts(s, v).cosine();
            if (cos != null) out.put(v.canonical(), new CellValues(cos, null));
        }
        return out;
    }
}
