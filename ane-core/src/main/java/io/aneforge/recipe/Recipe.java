package io.aneforge.recipe;

import io.aneforge.io.BoundedFiles;
import io.aneforge.io.IoProblems;
import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.FastPath;
import io.aneforge.mil.Target;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * A recipe: which variants to build for which chips (CONVERTER.md §4), and which compute-unit
 * settings the device agents benchmark them with. Written in YAML:
 *
 * <pre>
 * name: default
 * minimumTarget: ios16            # optional floor for every variant's deployment target (default ios16)
 * maxSeqLen: 8192                 # optional, 2..8192
 * computeUnits: [cpuOnly, cpuAndGPU, cpuAndNeuralEngine, all]   # optional, default all four
 * variants:
 *   - chips: all                  # all | w8a8 | [A17_PRO, M4]
 *     layout: ane                 # ane | standard
 *     precision: fp16             # fp32 | fp16 | int8-channel | int8-block{32,64,128}[-affine][-mse|-gptq] | int4-block..[-ffn8] | w8a8[-affine]
 *     target: ios18               # optional; default max(precision minimum, minimumTarget)
 *     attentionChunk: 512         # optional; 0 or 64..8192; default 512 above 512 tokens in the ane layout
 *     computeUnits: [cpuAndNeuralEngine]                        # optional per-variant override
 * </pre>
 *
 * <p>Everything is validated when the recipe is read, against the built-in chip catalog: a variant a
 * chip or deployment target cannot run, an unknown chip or field, a bad block size and duplicate
 * variants are rejected with a {@link RecipeException} naming the file, line, field and fix. The
 * request ({@link #variantsFor}) is validated too: unknown chips, chips the recipe does not cover,
 * sequence lengths out of range.
 *
 * <p>Deployment target of a variant: the entry's {@code target} if given (it must not be below the
 * precision's minimum nor the recipe's {@code minimumTarget}), else
 * {@code max(precision.minimumTarget(), minimumTarget)}. The default floor is ios16 because iOS 16 /
 * macOS 13 is the first Core ML with Float16 model inputs and outputs, and the release Apple's
 * published ANE transformer measurements used; an FP16 variant alone would allow ios15.
 */
public final class Recipe {

    /** The floor of every deployment target when a recipe does not set {@code minimumTarget}. */
    public static final Target DEFAULT_MINIMUM_TARGET = Target.IOS16;
    /** The smallest sequence length a variant can have (same bound as {@link VariantSpec}: room for [CLS] and [SEP]). */
    public static final int MIN_SEQ_LEN = VariantSpec.MIN_SEQ_LEN;
    /** The largest static sequence length a variant can have (same bound as {@link VariantSpec}). */
    public static final int MAX_SEQ_LEN = VariantSpec.MAX_SEQ_LEN;
    /** The largest recipe file read: recipes are a few hundred bytes; this refuses {@code /dev/zero} and huge files. */
    public static final long MAX_FILE_BYTES = 1L << 20;
    /** The built-in recipes, resources {@code io/aneforge/recipe/<name>.yaml}. */
    public static final List<String> BUILT_IN = List.of("default");

    private static final Set<String> TOP_FIELDS =
            new LinkedHashSet<>(List.of("name", "description", "minimumTarget", "maxSeqLen", "computeUnits", "variants"));
    private static final Set<String> ENTRY_FIELDS =
            new LinkedHashSet<>(List.of("chips", "layout", "precision", "target", "attentionChunk", "computeUnits"));

    private final String name;
    private final String source;
    private final Target minimumTarget;
    private final int maxSeqLen;
    private final List<ComputeUnit> computeUnits;
    private final List<RecipeEntry> entries;
    private final ChipCatalog catalog;

    private Recipe(String name, String source, Target minimumTarget, int maxSeqLen, List<ComputeUnit> computeUnits,
                   List<RecipeEntry> entries, ChipCatalog catalog) {
        this.name = name;
        this.source = source;
        this.minimumTarget = minimumTarget;
        this.maxSeqLen = maxSeqLen;
        this.computeUnits = List.copyOf(computeUnits);
        this.entries = List.copyOf(entries);
        this.catalog = catalog;
    }

    // ------------------------------------------------------------------ loading

    /** A recipe shipped with ane-core, by name ({@link #BUILT_IN}). */
    public static Recipe builtIn(String name) {
        if (!BUILT_IN.contains(name)) {
            throw new RecipeException("unknown built-in recipe '" + name + "': use one of " + BUILT_IN
                    + " or the path of a recipe .yaml file");
        }
        String resource = name + ".yaml";
        try (InputStream in = Recipe.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource io/aneforge/recipe/" + resource + " is missing from the classpath");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "built-in recipe " + name);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read built-in recipe " + name, e);
        }
    }

    /** A recipe file. */
    public static Recipe load(Path yaml) {
        String text;
        try {
            text = BoundedFiles.readString(yaml, MAX_FILE_BYTES);
        } catch (BoundedFiles.Refused e) {
            throw new RecipeException(e.notRegular()
                    ? "recipe file " + yaml + " is not a regular file: pass a .yaml file or a built-in name " + BUILT_IN
                    : "recipe file " + yaml + " is " + e.size() + " bytes, more than the limit of " + MAX_FILE_BYTES
                    + " (a recipe is a few lines of YAML): pass a recipe .yaml file");
        } catch (NoSuchFileException e) {
            throw new RecipeException("recipe file " + yaml + " does not exist: pass an existing .yaml file or a built-in name "
                    + BUILT_IN);
        } catch (IOException e) {
            throw new RecipeException("cannot read recipe file " + yaml + ": " + IoProblems.describe(e, yaml), e);
        }
        return parse(text, yaml.toString());
    }

    /** A built-in name or a file path, the way the command line and job requests name recipes. */
    public static Recipe resolve(String nameOrPath) {
        if (BUILT_IN.contains(nameOrPath)) {
            return builtIn(nameOrPath);
        }
        if (!nameOrPath.endsWith(".yaml") && !nameOrPath.endsWith(".yml") && !Files.exists(Path.of(nameOrPath))) {
            throw new RecipeException("unknown recipe '" + nameOrPath + "': use a built-in name " + BUILT_IN
                    + " or the path of a recipe .yaml file");
        }
        return load(Path.of(nameOrPath));
    }

    /** Parses and validates recipe YAML against the built-in chip catalog; {@code sourceName} appears in messages. */
    public static Recipe parse(String yaml, String sourceName) {
        return parse(yaml, sourceName, ChipCatalog.builtIn());
    }

    /** Parses and validates recipe YAML against {@code catalog}. */
    public static Recipe parse(String yaml, String sourceName, ChipCatalog catalog) {
        YamlDocument doc = YamlDocument.parse(yaml, sourceName);
        JsonNode root = doc.root();
        if (!root.isObject()) {
            throw new RecipeException(doc.where("") + ": a recipe is a mapping with a 'variants:' list, found "
                    + kind(root));
        }
        checkFields(doc, root, "", TOP_FIELDS);

        String name = root.has("name") ? string(doc, root.get("name"), "/name") : defaultName(sourceName);
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            throw new RecipeException(doc.where("/name") + ": name '" + name
                    + "' must be 1-64 letters, digits, '.', '_' or '-': rename it");
        }
        Target minimumTarget = root.has("minimumTarget")
                ? target(doc, root.get("minimumTarget"), "/minimumTarget") : DEFAULT_MINIMUM_TARGET;
        int maxSeqLen = MAX_SEQ_LEN;
        if (root.has("maxSeqLen")) {
            JsonNode n = root.get("maxSeqLen");
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < MIN_SEQ_LEN || n.intValue() > MAX_SEQ_LEN) {
                throw new RecipeException(doc.where("/maxSeqLen") + ": maxSeqLen must be an integer in " + MIN_SEQ_LEN + ".." + MAX_SEQ_LEN
                        + ", got " + n + ": fix the value or remove it");
            }
            maxSeqLen = n.intValue();
        }
        List<ComputeUnit> units = root.has("computeUnits")
                ? computeUnits(doc, root.get("computeUnits"), "/computeUnits") : Arrays.asList(ComputeUnit.values());

        JsonNode variants = root.get("variants");
        if (variants == null || !variants.isArray() || variants.isEmpty()) {
            throw new RecipeException(doc.where(variants == null ? "" : "/variants")
                    + ": a recipe needs a non-empty 'variants:' list (each item: chips, layout, precision)");
        }
        List<RecipeEntry> entries = new ArrayList<>();
        for (int i = 0; i < variants.size(); i++) {
            entries.add(entry(doc, variants.get(i), "/variants/" + i, units, minimumTarget, catalog));
        }
        Recipe recipe = new Recipe(name, sourceName, minimumTarget, maxSeqLen, units, entries, catalog);
        recipe.checkDuplicates();
        return recipe;
    }

    private static RecipeEntry entry(YamlDocument doc, JsonNode node, String at, List<ComputeUnit> defaultUnits,
                                     Target minimumTarget, ChipCatalog catalog) {
        if (!node.isObject()) {
            throw new RecipeException(doc.where(at) + ": each variants item is a mapping with chips, layout and precision, found "
                    + kind(node));
        }
        checkFields(doc, node, at, ENTRY_FIELDS);
        for (String required : List.of("chips", "layout", "precision")) {
            if (!node.has(required)) {
                throw new RecipeException(doc.where(at) + ": missing '" + required + "': add it (e.g. "
                        + example(required) + ")");
            }
        }
        ChipSelector chips = chips(doc, node.get("chips"), at + "/chips", catalog);
        Layout layout;
        try {
            layout = Layout.parse(string(doc, node.get("layout"), at + "/layout"));
        } catch (IllegalArgumentException e) {
            throw new RecipeException(doc.where(at + "/layout") + ": " + e.getMessage());
        }
        Precision precision;
        try {
            precision = Precision.parse(string(doc, node.get("precision"), at + "/precision"));
        } catch (IllegalArgumentException e) {
            throw new RecipeException(doc.where(at + "/precision") + ": " + e.getMessage());
        }
        Target target = null;
        if (node.has("target")) {
            target = target(doc, node.get("target"), at + "/target");
            if (!target.atLeast(precision.minimumTarget())) {
                throw new RecipeException(doc.where(at + "/target") + ": precision " + precision + " needs deployment target "
                        + id(precision.minimumTarget()) + " or newer (" + precision.minimumTarget().os() + "), got "
                        + id(target) + ": set target: " + id(precision.minimumTarget()) + " or remove the target line");
            }
            if (!target.atLeast(minimumTarget)) {
                throw new RecipeException(doc.where(at + "/target") + ": target " + id(target)
                        + " is below the recipe's minimumTarget " + id(minimumTarget) + ": raise the target or lower minimumTarget");
            }
        }
        Integer chunk = null;
        if (node.has("attentionChunk")) {
            JsonNode n = node.get("attentionChunk");
            if (!n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 0 || n.intValue() > MAX_SEQ_LEN
                    || n.intValue() > 0 && n.intValue() < VariantSpec.MIN_CHUNK) {
                throw new RecipeException(doc.where(at + "/attentionChunk") + ": attentionChunk must be 0 (no chunking) or an integer in "
                        + VariantSpec.MIN_CHUNK + ".." + MAX_SEQ_LEN + ", got " + n
                        + (n.isIntegralNumber() && n.canConvertToInt() && n.intValue() > 0 && n.intValue() < VariantSpec.MIN_CHUNK
                        ? ": smaller chunks multiply the graph's ops by seqLen / chunk and save almost no memory" : ""));
            }
            chunk = n.intValue();
            if (chunk > 0 && layout != Layout.ANE) {
                throw new RecipeException(doc.where(at + "/attentionChunk")
                        + ": chunked attention exists only in the ane layout: remove attentionChunk or use layout: ane");
            }
        }
        List<ComputeUnit> units = node.has("computeUnits")
                ? computeUnits(doc, node.get("computeUnits"), at + "/computeUnits") : defaultUnits;

        // What the chips can run.
        if (precision.scheme() == Precision.Scheme.W8A8) {
            for (Chip c : chips.expand(catalog)) {
                if (c.w8a8() != FastPath.YES) {
                    throw new RecipeException(doc.where(at + "/chips") + ": precision w8a8 needs a chip with the W8A8 fast path "
                            + w8a8Chips(catalog) + ", but the chip catalog lists " + c.id() + " as "
                            + c.w8a8().name().toLowerCase(Locale.ROOT) + ": use chips: w8a8 (or list only those chips)");
                }
            }
        }
        return new RecipeEntry(chips, layout, precision, target, chunk, units, doc.where(at));
    }

    private static ChipSelector chips(YamlDocument doc, JsonNode node, String at, ChipCatalog catalog) {
        if (node.isString()) {
            String s = node.stringValue().trim();
            if (s.equals(ChipSelector.ALL) || s.equals(ChipSelector.W8A8)) {
                return new ChipSelector(s, List.of());
            }
            // A single id written without brackets.
            return ChipSelector.of(List.of(chipId(doc, s, at, catalog)));
        }
        if (!node.isArray() || node.isEmpty()) {
            throw new RecipeException(doc.where(at) + ": chips must be all, w8a8 or a non-empty list of chip ids like "
                    + "[A17_PRO, M4], found " + kind(node));
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String id = chipId(doc, string(doc, node.get(i), at + "/" + i), at + "/" + i, catalog);
            if (ids.contains(id)) {
                throw new RecipeException(doc.where(at + "/" + i) + ": chip " + id + " is listed twice: remove one");
            }
            ids.add(id);
        }
        return ChipSelector.of(ids);
    }

    private static String chipId(YamlDocument doc, String id, String at, ChipCatalog catalog) {
        if (catalog.chip(id).isPresent()) {
            return id;
        }
        String upper = id.toUpperCase(Locale.ROOT).replace(' ', '_').replace('-', '_');
        throw new RecipeException(doc.where(at) + ": unknown chip '" + id + "'"
                + (catalog.chip(upper).isPresent() ? " (did you mean " + upper + "?)" : "")
                + ": use catalog ids " + chipIds(catalog) + ", all or w8a8");
    }

    private static List<ComputeUnit> computeUnits(YamlDocument doc, JsonNode node, String at) {
        if (!node.isArray() || node.isEmpty()) {
            throw new RecipeException(doc.where(at) + ": computeUnits must be a non-empty list of " + ComputeUnit.allIds()
                    + ", found " + kind(node));
        }
        List<ComputeUnit> units = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            String s = string(doc, node.get(i), at + "/" + i);
            ComputeUnit u;
            try {
                u = ComputeUnit.parse(s);
            } catch (IllegalArgumentException e) {
                throw new RecipeException(doc.where(at + "/" + i) + ": " + e.getMessage());
            }
            if (units.contains(u)) {
                throw new RecipeException(doc.where(at + "/" + i) + ": compute unit " + s + " is listed twice: remove one");
            }
            units.add(u);
        }
        units.sort(null); // canonical order, so equal recipes give equal job lists
        return units;
    }

    private static Target target(YamlDocument doc, JsonNode node, String at) {
        String s = string(doc, node, at);
        for (Target t : Target.values()) {
            if (id(t).equalsIgnoreCase(s.replace(" ", ""))) {
                return t;
            }
        }
        throw new RecipeException(doc.where(at) + ": unknown deployment target '" + s + "': use one of "
                + Arrays.stream(Target.values()).map(Recipe::id).collect(Collectors.joining(", ")));
    }

    private static String string(YamlDocument doc, JsonNode node, String at) {
        if (node == null || !(node.isString() || node.isNumber())) {
            throw new RecipeException(doc.where(at) + ": expected a text value, found " + kind(node));
        }
        return node.asString().trim();
    }

    private static void checkFields(YamlDocument doc, JsonNode node, String at, Set<String> allowed) {
        for (String field : node.propertyNames()) {
            if (!allowed.contains(field)) {
                throw new RecipeException(doc.where(at + "/" + field) + ": unknown field '" + field + "': allowed here are "
                        + String.join(", ", allowed));
            }
        }
    }

    private static String kind(JsonNode node) {
        if (node == null || node.isNull()) {
            return "nothing";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isObject()) {
            return "a mapping";
        }
        // An excerpt: a file that is not a recipe at all (`--recipe /etc/passwd`) reads as one long scalar, and
        // echoing all of it buries the message (and shows a file's contents to whoever reads the log).
        String text = node.asString();
        if (text.length() <= KIND_EXCERPT) {
            return "'" + text + "'";
        }
        return "'" + text.substring(0, KIND_EXCERPT) + "…' (" + text.length() + " characters)";
    }

    /** Characters of a scalar quoted in an error message. */
    private static final int KIND_EXCERPT = 40;

    private static String example(String field) {
        switch (field) {
            case "chips": return "chips: all";
            case "layout": return "layout: ane";
            default: return "precision: fp16";
        }
    }

    private static String defaultName(String source) {
        String base = source.replace('\\', '/');
        base = base.substring(base.lastIndexOf('/') + 1);
        base = base.replaceAll("\\.ya?ml$", "").replaceAll("[^A-Za-z0-9._-]", "-");
        return base.isEmpty() ? "recipe" : base;
    }

    static String id(Target t) {
        return t.name().toLowerCase(Locale.ROOT);
    }

    private static String chipIds(ChipCatalog catalog) {
        return catalog.chips().stream().map(Chip::id).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String w8a8Chips(ChipCatalog catalog) {
        return catalog.chips().stream().filter(c -> c.w8a8() == FastPath.YES).map(Chip::id)
                .collect(Collectors.joining(", ", "(", ")"));
    }

    /**
     * Entries that build the same variant at every sequence length. An omitted attentionChunk is compared as the
     * chunk it means: 0 in the standard layout and wherever maxSeqLen keeps sequences at or under 512; above that
     * it means 512 for some lengths and 0 for others, and {@link #variantsFor} compares the actual chunks.
     */
    private void checkDuplicates() {
        Map<String, RecipeEntry> seen = new HashMap<>();
        for (Chip chip : catalog.chips()) {
            for (RecipeEntry e : entries) {
                if (!e.chips().matches(chip)) {
                    continue;
                }
                String chunk = e.attentionChunk() != null ? e.attentionChunk().toString()
                        : e.layout() != Layout.ANE || maxSeqLen <= VariantSpec.DEFAULT_CHUNK ? "0" : "default";
                String key = chip.id() + "|" + targetFor(e) + "|" + e.layout() + "|" + e.precision() + "|" + chunk;
                RecipeEntry first = seen.putIfAbsent(key, e);
                if (first != null) {
                    throw new RecipeException(e.where() + ": duplicate variant: " + chip.id() + " " + e.layout().id() + " "
                            + e.precision() + " " + id(targetFor(e)) + " is already built by " + first.where()
                            + ": remove one entry or narrow its chips");
                }
            }
        }
    }

    // ------------------------------------------------------------------ use

    public String name() {
        return name;
    }

    /** Where the recipe came from (a file path or {@code built-in recipe default}). */
    public String source() {
        return source;
    }

    public Target minimumTarget() {
        return minimumTarget;
    }

    public int maxSeqLen() {
        return maxSeqLen;
    }

    public List<RecipeEntry> entries() {
        return entries;
    }

    /** The recipe-wide compute-unit settings the agents benchmark every variant with, as Core ML ids. */
    public List<String> computeUnits() {
        return computeUnits.stream().map(ComputeUnit::id).collect(Collectors.toList());
    }

    /** The deployment target of an entry's variants. */
    public Target targetFor(RecipeEntry entry) {
        if (entry.target() != null) {
            return entry.target();
        }
        Target min = entry.precision().minimumTarget();
        return min.atLeast(minimumTarget) ? min : minimumTarget;
    }

    /**
     * The variants to build for {@code chips} (catalog ids; empty = every catalog chip) at a static
     * sequence length: per chip (in request order, duplicates dropped), the recipe entries that apply,
     * in recipe order.
     */
    public List<VariantSpec> variantsFor(List<String> chips, int seqLen) {
        if (seqLen < MIN_SEQ_LEN || seqLen > maxSeqLen) {
            throw new RecipeException("sequence length " + seqLen + " is out of range for recipe " + name + " ("
                    + MIN_SEQ_LEN + ".." + maxSeqLen + "): pass a sequence length between " + MIN_SEQ_LEN + " and " + maxSeqLen);
        }
        List<String> ids = new ArrayList<>(new LinkedHashSet<>(chips));
        if (ids.isEmpty()) {
            ids = catalog.chips().stream().map(Chip::id).collect(Collectors.toList());
        }
        List<VariantSpec> out = new ArrayList<>();
        for (String id : ids) {
            Chip chip = catalog.chip(id).orElseThrow(() -> new RecipeException("unknown chip '" + id + "': use catalog ids "
                    + chipIds(catalog) + (catalog.chip(id.toUpperCase(Locale.ROOT)).isPresent()
                    ? " (did you mean " + id.toUpperCase(Locale.ROOT) + "?)" : "")));
            int before = out.size();
            Map<String, RecipeEntry> builtBy = new HashMap<>();
            for (RecipeEntry e : entries) {
                if (!e.chips().matches(chip)) {
                    continue;
                }
                VariantSpec spec;
                try {
                    spec = new VariantSpec(chip.id(), targetFor(e), e.layout(), e.precision(), seqLen, e.attentionChunkAt(seqLen));
                } catch (IllegalArgumentException ex) {
                    throw new RecipeException(e.where() + ": cannot build for " + chip.id() + " at sequence length " + seqLen
                            + ": " + ex.getMessage());
                }
                // Two entries whose chunks differ only as written (omitted vs 512 above 512 tokens, omitted vs 0 at or
                // below) build the same package twice; checkDuplicates cannot know the length.
                RecipeEntry first = builtBy.putIfAbsent(spec.id(), e);
                if (first != null) {
                    throw new RecipeException(e.where() + ": duplicate variant at sequence length " + seqLen + ": " + spec.id()
                            + " is already built by " + first.where() + " (without attentionChunk an ane entry chunks by "
                            + VariantSpec.DEFAULT_CHUNK + " above " + VariantSpec.DEFAULT_CHUNK
                            + " tokens and not at all up to it): remove one entry or give them different attentionChunk values");
                }
                out.add(spec);
            }
            if (out.size() == before) {
                throw new RecipeException("recipe " + name + " (" + source + ") has no variant for chip " + id
                        + ": add it to an entry's chips or drop it from the requested chips");
            }
        }
        return out;
    }

    /** The compute-unit settings for one variant this recipe produces (its entry's override or the recipe's). */
    public List<String> computeUnitsFor(VariantSpec spec) {
        Chip chip = catalog.chip(spec.chip()).orElseThrow(() -> new RecipeException("unknown chip '" + spec.chip() + "'"));
        for (RecipeEntry e : entries) {
            if (e.chips().matches(chip) && e.layout() == spec.layout() && e.precision().equals(spec.precision())
                    && targetFor(e) == spec.target() && e.attentionChunkAt(spec.seqLen()) == spec.attentionChunk()) {
                return e.computeUnits().stream().map(ComputeUnit::id).collect(Collectors.toList());
            }
        }
        throw new RecipeException("variant " + spec.id() + " is not produced by recipe " + name);
    }

    @Override
    public String toString() {
        return "Recipe[" + name + " from " + source + ", " + entries.size() + " entries]";
    }
}
