package io.aneforge.registry.conversion;

import io.aneforge.variant.VariantSpec;
import java.util.List;

/** The seam between a publish request and the recipe machinery: which variants to build. */
public interface VariantPlanner {

    /**
     * The variants {@code recipe} (a built-in recipe name or recipe YAML) asks for on {@code chips}.
     *
     * @throws RecipeRejectedException naming the rule a chip or deployment target cannot satisfy
     */
    List<VariantSpec> plan(List<String> chips, String recipe, int seqLen);

    /** A recipe that asks for something a chip or deployment target cannot run; the message is the reason. */
    final class RecipeRejectedException extends RuntimeException {
        public RecipeRejectedException(String message) {
            super(message);
        }
    }
}
