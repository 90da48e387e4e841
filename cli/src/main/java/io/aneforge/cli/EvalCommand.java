package io.aneforge.cli;

import io.aneforge.graph.Graphs;

import io.aneforge.cli.convert.FidelityCheck;
import io.aneforge.cli.convert.SourceModel;
import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.reference.OnnxRuntimeReference;
import io.aneforge.cli.reference.Reference;
import io.aneforge.cli.reference.ReferenceException;
import io.aneforge.cli.reference.SourceOnnx;
import io.aneforge.cli.run.PackageRunner;
import io.aneforge.eval.FidelityReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code aneforge eval}: a package's fidelity against the FP32 golden outputs of its source model, computed by the
 * converter's own FP32 graph ({@code --reference fp32-graph}) or by ONNX Runtime running the source's ONNX file
 * ({@code --reference onnxruntime}).
 */
@Command(name = "eval", sortOptions = false, mixinStandardHelpOptions = true,
        description = "Measure a package against the FP32 outputs of its source model on the fixed samples.")
public final class EvalCommand implements Callable<Integer> {

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Option(names = "--package", required = true, paramLabel = "<x.mlpackage>", description = "The package to measure.")
    Path pkg;

    @Option(names = "--source", required = true, paramLabel = "<dir|hf:org/name@rev>", description = "The model it was converted from.")
    String source;

    @Option(names = "--samples", defaultValue = "32", paramLabel = "N", description = "Fixed sample sentences, 1..32 (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--reference", defaultValue = "fp32-graph", paramLabel = "<fp32-graph|onnxruntime>",
            converter = Reference.Converter.class,
            description = "What computes the FP32 outputs: fp32-graph, the converter's own unconverted graph of --source "
                    + "(default), or onnxruntime, ONNX Runtime running the source's onnx/model.onnx (an independent engine).")
    Reference reference;

    @Option(names = "--json", description = "Print the metrics as JSON.")
    boolean json;

    @Option(names = "--min-cosine", paramLabel = "C", description = "Exit 1 when the worst per-position cosine is below C.")
    Double minCosine;

    /**
     * What eval prints with --json.
     *
     * @param reference     {@code fp32-graph} or {@code onnxruntime}: what computed the outputs compared with
     * @param referenceFile the ONNX file ONNX Runtime ran; null for {@code fp32-graph}
     */
    public record Result(String packagePath, String variant, String engine, String reference, String referenceFile,
                         int seqLen, int samples, double worstCosine, Map<String, FidelityReport> outputs) {
    }

    @Override
    public Integer call() {
        if (samples < 1 || samples > FidelityCheck.MAX_SAMPLES) {
            throw new UsageException("--samples must be in 1.." + FidelityCheck.MAX_SAMPLES + ", got " + samples);
        }
        FidelityCheck.checkMinCosine(minCosine);
        PrintWriter out = spec.commandLine().getOut();
        if (reference == Reference.ONNXRUNTIME) {
            requireOnnxRuntime(); // before the package and the source's weights are read
        }
        try (PackageRunner runner = PackageRunner.open(pkg); SourceModel model = openSource(runner)) {
            int seqLen = runner.seqLen();
            checkSourceFits(runner, model, seqLen);
            if (runner.program().inputs().stream().anyMatch(v -> v.name().equals(Graphs.TOKEN_TYPE_IDS))) {
                try {
                    model.takeTokenTypes(); // the golden graph takes the same inputs
                } catch (IllegalArgumentException e) {
                    throw new UsageException(pkg + " takes token_type_ids, but the model of --source " + source
                            + " cannot: " + e.getMessage() + "; pass the --source the package was converted from");
                }
            }
            Path onnx = reference == Reference.ONNXRUNTIME ? onnxOf(model) : null;
            FidelityCheck check = onnx == null ? FidelityCheck.compute(model, samples, seqLen)
                    : againstOnnxRuntime(runner, model, onnx, seqLen);
            Map<String, FidelityReport> f = check.measure(runner);
            // The build id (ios16-ane-fp16-s128) this converter writes; a package of an older one names its variant.
            Map<String, String> metadata = runner.program().metadata();
            String variant = metadata.getOrDefault(Graphs.BUILD_METADATA, metadata.get(Graphs.VARIANT_METADATA));
            Result r = new Result(pkg.toString(), variant, runner.engine(), reference.id(),
                    onnx == null ? null : onnx.toString(), seqLen, samples, FidelityCheck.worstCosine(f), new LinkedHashMap<>(f));
            if (json) {
                out.println(VariantsManifest.json(r));
            } else {
                out.println(pkg + " (" + (r.variant() == null ? "unknown variant" : r.variant()) + ") vs "
                        + (onnx == null ? "FP32 golden (the converter's FP32 graph)" : "ONNX Runtime (" + onnx + ")") + ", "
                        + samples + " samples, seq len " + seqLen + ", engine " + r.engine()
                        + (check.positions() < seqLen ? ", predictions on prefixes of at most " + check.positions()
                        + " positions holding each sample's real tokens (the same floats there as at full length)" : ""));
                out.println(String.format(Locale.ROOT, "%-20s %12s %12s %10s %12s %8s", "output", "cosine mean",
                        "cosine min", "PSNR dB", "max |err|", "top-1"));
                for (Map.Entry<String, FidelityReport> e : f.entrySet()) {
                    FidelityReport x = e.getValue();
                    out.println(String.format(Locale.ROOT, "%-20s %12.7f %12.7f %10.2f %12.3e %8s", e.getKey(),
                            x.cosineMean(), x.cosineMin(), x.psnrDb(), x.maxAbsError(),
                            x.top1Agreement() == null ? "-" : String.format(Locale.ROOT, "%.4f", x.top1Agreement())));
                }
            }
            if (minCosine != null && !(r.worstCosine() >= minCosine)) {
                throw new CommandFailure(String.format(Locale.ROOT, "worst cosine %.6f is below --min-cosine %s", r.worstCosine(),
                        minCosine));
            }
        }
        return AneForge.OK;
    }

    /** The source's ONNX model ({@link SourceOnnx}), or the refusal naming the fix. */
    private Path onnxOf(SourceModel model) {
        try {
            return SourceOnnx.of(source, model, root.env, "--reference fp32-graph");
        } catch (ReferenceException e) {
            throw e.usage() ? new UsageException(e.getMessage()) : new CommandFailure(e.getMessage(), e);
        }
    }

    /** Golden outputs of ONNX Runtime running {@code onnx} on the same samples (the same tokens) as the package. */
    private FidelityCheck againstOnnxRuntime(PackageRunner runner, SourceModel model, Path onnx, int seqLen) {
        Map<String, int[]> outputs = new LinkedHashMap<>();
        runner.program().outputs().forEach(v -> outputs.put(v.name(), v.shape()));
        Set<String> inputs = new HashSet<>();
        runner.program().inputs().forEach(v -> inputs.add(v.name()));
        try (OnnxRuntimeReference ort = OnnxRuntimeReference.open(onnx, seqLen, inputs, outputs)) {
            return FidelityCheck.against(model, samples, seqLen, ort::run);
        } catch (ReferenceException e) {
            throw e.usage() ? new UsageException(e.getMessage()) : new CommandFailure(e.getMessage(), e);
        }
    }

    /** ONNX Runtime loads here, or the command ({@code eval}, {@code convert}) stops with the reason and the fix. */
    static void requireOnnxRuntime() {
        try {
            OnnxRuntimeReference.requireRuntime();
        } catch (ReferenceException e) {
            throw new CommandFailure(e.getMessage(), e);
        } catch (LinkageError e) {
            // the onnxruntime jar is not on the class path (it is a dependency of cli, copied to cli/target/lib)
            throw new CommandFailure("ONNX Runtime is not on the class path (" + e + "): rebuild the cli module "
                    + "(./mvnw -pl cli -am package) so cli/target/lib has the onnxruntime jar, or pass --reference "
                    + "fp32-graph", e);
        }
    }

    /**
     * The package must have been converted from --source: the same vocabulary (so the source's tokenizer fits it,
     * SourceModel checked it against vocab_size) and no more positions than the model has. Otherwise the reference run stopped mid-way, naming an internal op ("index 101 is out of range for axis
     * size 90") or an internal variant ("cannot build variant reference-ios15-standard-fp32-s128"), with exit 1.
     */
    private void checkSourceFits(PackageRunner runner, SourceModel model, int seqLen) {
        String fix = ": pass the --source the package was converted from";
        int vocab = model.model().config().vocabSize();
        java.util.OptionalInt embedded = runner.vocabularySize();
        if (embedded.isPresent() && embedded.getAsInt() != vocab) {
            throw new UsageException(pkg + " embeds " + embedded.getAsInt() + " token ids, but the model of --source "
                    + source + " has " + vocab + " (vocab_size in config.json), so it was not converted from it" + fix);
        }
        int positions = model.model().config().maxSequenceLength();
        if (seqLen > positions) {
            throw new UsageException(pkg + " takes " + seqLen + " tokens, but the model of --source " + source
                    + " has only " + positions + " positions (max_position_embeddings in config.json), so it was not "
                    + "converted from it" + fix);
        }
    }

    /**
     * The source with the head the package computes: its {@code aneforge.task} (a checkpoint whose config names two
     * head kinds was converted with {@code --head <kind>}), or none for a package converted with {@code --head none}
     * (or before heads were converted), whose hidden states are compared.
     */
    private SourceModel openSource(PackageRunner runner) {
        String task = runner.program().metadata().get("aneforge.task");
        io.aneforge.model.TaskHead.Kind kind = task == null ? null : io.aneforge.model.TaskHead.Kind.ofId(task);
        if (task != null && kind == null) {
            throw new UsageException(pkg + " computes a task head this converter does not know (aneforge.task '" + task
                    + "'): evaluate it with the aneforge version that converted it");
        }
        try {
            return SourceModel.open(source, root.env, kind == null ? io.aneforge.model.HeadChoice.NONE
                    : io.aneforge.model.HeadChoice.of(kind));
        } catch (io.aneforge.source.ModelSourceException e) {
            if (e.getCause() instanceof io.aneforge.model.HeadChoiceException h) {
                // the kind came from the package, not from a --head option eval does not have
                throw new UsageException(pkg + " computes a " + task + " head (aneforge.task), but the config.json of"
                        + " --source " + source + " names no " + task + " head (architectures " + h.architectures()
                        + "): pass the --source the package was converted from");
            }
            if (e.getCause() instanceof io.aneforge.model.MissingHeadTensorsException m) {
                // the importer's way out is convert's "drop --head"; here the head is the package's
                throw new UsageException(pkg + " computes a " + task + " head (aneforge.task), but --source " + source
                        + " lacks the next-sentence head's tensors " + String.join(", ", m.missing())
                        + ": pass the --source the package was converted from");
            }
            if (e.getCause() instanceof io.aneforge.model.AbsentHeadException a) {
                throw new UsageException(pkg + " computes a " + task + " head (aneforge.task), but --source " + source
                        + " holds none of that head's tensors (missing: " + String.join(", ", a.missing())
                        + "): pass the --source the package was converted from");
            }
            throw new UsageException("--source: " + e.getMessage());
        }
    }
}
