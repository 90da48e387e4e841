/**
 * Recipes: YAML files mapping chips to the variants to build ({@link io.aneforge.variant.VariantSpec})
 * and the compute-unit settings the device agents benchmark them with (CONVERTER.md §4). Entry point:
 * {@link io.aneforge.recipe.Recipe} ({@code builtIn("default")}, {@code load(Path)}, {@code parse},
 * {@code variantsFor(chips, seqLen)}). Used by the command line and the converter worker.
 */
package io.aneforge.recipe;
