package io.aneforge.registry.conversion;

import io.aneforge.chips.ChipCatalog;
import io.aneforge.recipe.Recipe;
import io.aneforge.recipe.RecipeException;
import io.aneforge.variant.VariantSpec;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Plans with {@link Recipe}: {@code recipe} is a built-in name ({@link Recipe#BUILT_IN}) or recipe YAML
 * sent in the request (never a path: the registry does not read files a client names).
 */
@Component
class RecipePlanner implements VariantPlanner {

    private final ChipCatalog catalog;

    RecipePlanner(ChipCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public List<VariantSpec> plan(List<String> chips, String recipe, int seqLen) {
        if (chips == null || chips.isEmpty()) {
            throw new RecipeRejectedException("field 'chips' must name at least one catalog chip, e.g. [\"A17_PRO\", \"M2\"]");
        }
        try {
            Recipe r = Recipe.BUILT_IN.contains(recipe) ? Recipe.builtIn(recipe)
                    : looksLikeYaml(recipe) ? Recipe.parse(recipe, "the request's recipe", catalog)
                    : null;
            if (r == null) {
                throw new RecipeRejectedException("recipe '" + recipe + "' is neither a built-in recipe " + Recipe.BUILT_IN
                        + " nor recipe YAML (a mapping with a 'variants:' list)");
            }
            return r.variantsFor(chips, seqLen);
        } catch (RecipeException e) {
            throw new RecipeRejectedException(e.getMessage());
        }
    }

    private static boolean looksLikeYaml(String s) {
        return s.contains("\n") || s.contains(":");
    }
}
