package io.aneforge.registry.auth;

import io.aneforge.names.RegistryNames;
import io.aneforge.registry.problem.ApiProblem;
import java.util.List;
import org.springframework.http.HttpStatus;

/**
 * The models a token may write to: every model ({@link #ALL}, {@code patterns} null), or a list of patterns, each
 * an exact model name ({@code bert-base}) or a name prefix ending in {@code *} ({@code team-a-*}: every model whose
 * name starts with {@code team-a-}). One simple form on purpose: model names have no hierarchy, so a prefix is
 * what a team's naming convention can use, and no other wildcard means anything.
 */
public record ModelScope(List<String> patterns) {

    public static final ModelScope ALL = new ModelScope(null);

    public ModelScope {
        patterns = patterns == null ? null : List.copyOf(patterns);
    }

    /**
     * The scope asked for when minting: null means every model; an empty list, {@code *} alone or a pattern that is
     * no model name (nor such a name's prefix followed by {@code *}) is refused with a 400 naming the pattern.
     */
    static ModelScope parse(List<String> patterns) {
        if (patterns == null) return ALL;
        if (patterns.isEmpty()) {
            throw ApiProblem.badRequest("invalid-model-scope", "Invalid model scope",
                    "models is empty; leave it out for a token that may write to every model, or list model names"
                            + " or prefixes ending in '*' (e.g. [\"team-a-*\", \"bert-base\"])");
        }
        for (String p : patterns) {
            String name = p != null && p.endsWith("*") ? p.substring(0, p.length() - 1) : p;
            if (!RegistryNames.isModel(name)) {
                throw ApiProblem.badRequest("invalid-model-scope", "Invalid model scope",
                        "models entry " + (p == null ? "null" : "'" + p + "'") + " is neither a model name ("
                                + RegistryNames.MODEL.pattern() + ") nor such a name's prefix followed by '*'"
                                + " (e.g. 'team-a-*'); '*' alone is not a scope: leave models out for every model");
            }
        }
        return new ModelScope(patterns.stream().distinct().toList());
    }

    /**
     * 400 {@code model-scope-not-supported}: only a publisher writes to models it names. A worker leases from the one
     * shared conversion queue, an agent runs any model's jobs, reader and qa only read, and admin is never limited.
     */
    static ApiProblem notSupported(Role role) {
        return ApiProblem.badRequest("model-scope-not-supported", "Model scope not supported for this role",
                "models limits what a publisher token may write; a " + role.wireName() + " token cannot be limited"
                        + " to models: leave models out (or null: every model), or use a publisher token");
    }

    public boolean all() {
        return patterns == null;
    }

    public boolean covers(String model) {
        if (patterns == null) return true;
        for (String p : patterns) {
            if (p.endsWith("*") ? model.startsWith(p.substring(0, p.length() - 1)) : model.equals(p)) return true;
        }
        return false;
    }

    /** 403 {@code forbidden-model} unless the scope covers {@code model}; the problem names the token's scope. */
    void require(Caller caller, String model) {
        if (covers(model)) return;
        throw new ApiProblem(HttpStatus.FORBIDDEN, "forbidden-model", "Model outside the token's scope",
                "token '" + caller.name() + "' may write only to models " + String.join(", ", patterns) + "; model '"
                        + model + "' is not among them (reads are not limited). Use a token whose models include '"
                        + model + "' (an admin mints one with POST /api/v1/tokens and \"models\")")
                .with("models", patterns);
    }
}
