package io.aneforge.recipe;

import io.aneforge.mil.Target;
import io.aneforge.variant.Layout;
import io.aneforge.variant.Precision;
import io.aneforge.variant.VariantSpec;
import java.util.List;

/**
 * One {@code variants:} item of a recipe: build {@code layout}/{@code precision} for the chips of
 * {@code chips}.
 *
 * @param chips which chips get this variant
 * @param layout tensor layout
 * @param precision weight precision
 * @param target explicit deployment target, or null to derive it (see {@link Recipe#targetFor})
 * @param attentionChunk explicit query chunk for attention, or null for {@link io.aneforge.variant.VariantSpec#of}'s default
 * @param computeUnits settings the agents benchmark this variant with (the recipe's default when the entry names none)
 * @param where the source, line and field of the entry, for messages ({@code my.yaml line 12 (variants[2])})
 */
public record RecipeEntry(ChipSelector chips, Layout layout, Precision precision, Target target,
                          Integer attentionChunk, List<ComputeUnit> computeUnits, String where) {

    public RecipeEntry {
        if (chips == null || layout == null || precision == null) {
            throw new IllegalArgumentException("chips, layout and precision are required");
        }
        computeUnits = List.copyOf(computeUnits);
        if (computeUnits.isEmpty()) {
            throw new IllegalArgumentException("at least one compute unit is required");
        }
    }

    /** The chunk this entry's variants get at {@code seqLen}: the explicit one, else {@link VariantSpec#defaultChunk}. */
    public int attentionChunkAt(int seqLen) {
        return attentionChunk != null ? attentionChunk : VariantSpec.defaultChunk(layout, seqLen);
    }
}
