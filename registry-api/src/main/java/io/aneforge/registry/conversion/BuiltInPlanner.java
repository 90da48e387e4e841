package io.aneforge.registry.conversion;

import io.aneforge.chips.Chip;
import io.aneforge.chips.ChipCatalog;
import io.aneforge.chips.FastPath;
import io.aneforge.mil.Target;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.util.ArrayList;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * The built-in {@code default} recipe (CONVERTER.md §4) and the chip rules that can reject a plan.
 * Every chip gets FP16 in the ANE layout and the standard-layout FP16 baseline; iOS 18-capable chips
 * (all catalog chips) also get INT8 per-block (block 32); chips with a W8A8 fast path get a W8A8
 * candidate.
 */
@Component
class BuiltInPlanner implements VariantPlanner {

    private final ChipCatalog catalog;

    BuiltInPlanner(ChipCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public List<VariantSpec> plan(List<String> chips, String recipe, int seqLen) {
        if (!"default".equals(recipe)) {
            throw new RecipeRejectedException("recipe '" + abbreviate(recipe) + "' is unknown; the built-in recipes are [default]");
        }
        if (chips == null || chips.isEmpty()) throw new RecipeRejectedException("chips must name at least one catalog chip");
        List<VariantSpec> out = new ArrayList<>();
        for (String id : chips) {
            Chip chip = catalog.chip(id).orElseThrow(() -> new RecipeRejectedException("chip '" + id
                    + "' is not in the catalog; known chips: " + catalog.chips().stream().map(Chip::id).toList()));
            try {
                out.add(VariantSpec.of(chip.id(), Target.IOS16, Layout.ANE, Precision.FP16, seqLen));
                out.add(VariantSpec.of(chip.id(), Target.IOS16, Layout.STANDARD, Precision.FP16, seqLen));
                out.add(VariantSpec.of(chip.id(), Target.IOS18, Layout.ANE, Precision.parse("int8-block32"), seqLen));
                if (chip.w8a8() == FastPath.YES) {
                    out.add(VariantSpec.of(chip.id(), Target.IOS17, Layout.ANE, Precision.parse("w8a8"), seqLen));
                }
            } catch (IllegalArgumentException e) {
                throw new RecipeRejectedException(chip.id() + ": " + e.getMessage());
            }
        }
        return out;
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }
}
