package io.aneforge.recipe;

/**
 * A recipe that cannot be used as written: unknown field, chip or precision, a variant a chip or
 * deployment target cannot run, a duplicate, or a request (chips, sequence length) the recipe cannot
 * serve. The message names the recipe source, the line and field when known, and the fix.
 */
public class RecipeException extends RuntimeException {

    public RecipeException(String message) {
        super(message);
    }

    public RecipeException(String message, Throwable cause) {
        super(message, cause);
    }
}
