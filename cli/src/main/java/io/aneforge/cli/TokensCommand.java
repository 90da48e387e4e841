package io.aneforge.cli;

import io.aneforge.cli.manifest.VariantsManifest;
import io.aneforge.cli.registry.RegistryClient;
import io.aneforge.cli.registry.RegistryException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import tools.jackson.databind.JsonNode;

/**
 * {@code aneforge tokens list|create|update|revoke}: the registry's API tokens ({@code /api/v1/tokens}, admin only),
 * with the registry URL and token of the other registry commands ({@code ANEFORGE_REGISTRY_URL}, {@code ANEFORGE_TOKEN}).
 */
@Command(name = "tokens", mixinStandardHelpOptions = true,
        description = "List, mint, limit and revoke the registry's API tokens (an admin token in ANEFORGE_TOKEN).",
        subcommands = {TokensCommand.ListCommand.class, TokensCommand.CreateCommand.class, TokensCommand.UpdateCommand.class,
            TokensCommand.RevokeCommand.class})
public final class TokensCommand implements Runnable {

    static final String PATH = "/api/v1/tokens";

    @ParentCommand
    AneForge root;

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: use one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    /** The registry call, with a 403 for a non-admin token and a 404 for an unknown id turned into the CLI's fix. */
    static JsonNode call(Function<RegistryClient, JsonNode> request, RegistryClient registry) {
        try {
            return request.apply(registry);
        } catch (RegistryException e) {
            if (e.status() == 403 && "forbidden-role".equals(e.slug())) {
                throw new CommandFailure(e.getMessage() + " (the tokens commands need an admin token: set "
                        + RegistryClient.TOKEN_ENV + " to one)", e);
            }
            if (e.status() == 404 && "token-not-found".equals(e.slug())) {
                // the registry's hint names its HTTP endpoint; at the command line the fix is the list command
                throw new CommandFailure(e.getMessage() + " (aneforge tokens list shows the ids)", e);
            }
            throw e;
        }
    }

    /** {@code #12 team-a-ci (publisher, models team-a-*)}: a token as the commands name it. */
    static String describe(JsonNode t) {
        return "#" + t.path("id").asLong() + " " + t.path("name").asString("") + " (" + t.path("role").asString("")
                + ", " + models(t.path("models")) + ")";
    }

    static String models(JsonNode models) {
        if (models == null || models.isNull() || models.isMissingNode()) {
            return "every model";
        }
        List<String> names = new ArrayList<>();
        models.forEach(m -> names.add(m.asString()));
        return "models " + String.join(",", names);
    }

    /**
     * {@code --models} as typed: comma-separated names or prefixes ending in {@code *}. An empty entry is refused, as
     * for {@code --chips}: {@code --models ""} or {@code a,,b} is a slip, not "every model".
     */
    static List<String> parseModels(String raw) {
        List<String> entries = new ArrayList<>();
        for (String entry : raw.split(",", -1)) {
            if (entry.isBlank()) {
                throw new UsageException("--models '" + raw + "' has an empty entry: pass model names or prefixes ending "
                        + "in * separated by commas, e.g. --models team-a-*,bert-base");
            }
            entries.add(entry.strip());
        }
        return entries;
    }

    static Optional<JsonNode> find(RegistryClient registry, long id) {
        for (JsonNode t : call(r -> r.get(PATH), registry)) {
            if (t.path("id").asLong() == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List the tokens: id, name, role, models, who minted them, when last used, revoked (never the secrets).")
    static final class ListCommand implements Callable<Integer> {
        @ParentCommand
        TokensCommand tokens;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print the registry's JSON.")
        boolean json;

        @Override
        public Integer call() {
            RegistryClient registry = RegistryClient.fromEnvironment(tokens.root.env);
            JsonNode all = TokensCommand.call(r -> r.get(PATH), registry);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(VariantsManifest.json(all));
                return AneForge.OK;
            }
            out.println(all.size() + (all.size() == 1 ? " token" : " tokens"));
            for (JsonNode t : all) {
                out.println("  " + describe(t) + "  minted by " + t.path("createdBy").asString("") + " "
                        + t.path("createdAt").asString("") + ", last used " + text(t.path("lastUsedAt"), "never")
                        + (t.path("revokedAt").isString() ? ", REVOKED " + t.path("revokedAt").asString() : ""));
            }
            return AneForge.OK;
        }

        private static String text(JsonNode n, String absent) {
            return n.isString() ? n.asString() : absent;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Mint a token. The token goes to stdout alone (TOKEN=$(aneforge tokens create ...)), what it "
                    + "is to stderr: the registry shows it only this once.")
    static final class CreateCommand implements Callable<Integer> {
        @ParentCommand
        TokensCommand tokens;

        @Spec
        CommandSpec spec;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "What the token is for, e.g. team-a-ci.")
        String name;

        @Option(names = "--role", required = true, paramLabel = "ROLE",
                description = "reader, publisher, qa, worker, agent or admin.")
        String role;

        @Option(names = "--models", paramLabel = "M[,M...]", description = "Publisher tokens only: the models it may write "
                + "to, names or prefixes ending in * (default: every model).")
        String models;

        @Option(names = "--json", description = "Print the registry's JSON (token included) instead.")
        boolean json;

        @Override
        public Integer call() {
            if (name.isBlank()) {
                throw new UsageException("--name is empty: name what the token is for, e.g. --name team-a-ci");
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("name", name);
            body.put("role", role);
            if (models != null) {
                body.put("models", parseModels(models));
            }
            RegistryClient registry = RegistryClient.fromEnvironment(tokens.root.env);
            JsonNode minted = TokensCommand.call(r -> r.post(PATH, body), registry);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(VariantsManifest.json(minted));
                return AneForge.OK;
            }
            spec.commandLine().getErr().println("minted token " + describe(minted) + "; it is shown only this once:");
            out.println(minted.path("token").asString());
            return AneForge.OK;
        }
    }

    @Command(name = "update", mixinStandardHelpOptions = true, sortOptions = false,
            description = "Change the models a publisher token may write to (a token's name and role never change: "
                    + "mint another for those).")
    static final class UpdateCommand implements Callable<Integer> {
        @ParentCommand
        TokensCommand tokens;

        @Spec
        CommandSpec spec;

        @Option(names = "--id", required = true, paramLabel = "N", description = "The token's id (aneforge tokens list).")
        long id;

        @Option(names = "--models", paramLabel = "M[,M...]", description = "The models it may write to from now on, names "
                + "or prefixes ending in *.")
        String models;

        @Option(names = "--all-models", description = "Lift the limit: it may write to every model.")
        boolean allModels;

        @Option(names = "--json", description = "Print the registry's JSON.")
        boolean json;

        @Override
        public Integer call() {
            if ((models == null) == !allModels) {
                throw new UsageException("pass either --models M[,M...] (the models the token may write to) or "
                        + "--all-models (every model)" + (allModels ? ", not both" : ""));
            }
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("models", allModels ? null : parseModels(models));
            RegistryClient registry = RegistryClient.fromEnvironment(tokens.root.env);
            JsonNode changed = TokensCommand.call(r -> r.patch(PATH + "/" + id, body), registry);
            PrintWriter out = spec.commandLine().getOut();
            out.println(json ? VariantsManifest.json(changed) : "token " + describe(changed));
            return AneForge.OK;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a token: every request with it is refused from then on (within the registry's cache-ttl "
                    + "on other instances).")
    static final class RevokeCommand implements Callable<Integer> {
        @ParentCommand
        TokensCommand tokens;

        @Spec
        CommandSpec spec;

        @Option(names = "--id", required = true, paramLabel = "N", description = "The token's id (aneforge tokens list).")
        long id;

        @Override
        public Integer call() {
            RegistryClient registry = RegistryClient.fromEnvironment(tokens.root.env);
            Optional<JsonNode> before = find(registry, id);
            TokensCommand.call(r -> r.delete(PATH + "/" + id), registry); // 404 token-not-found for an unknown id
            PrintWriter out = spec.commandLine().getOut();
            String what = before.map(TokensCommand::describe).orElse("#" + id);
            if (before.isPresent() && before.get().path("revokedAt").isString()) {
                out.println("token " + what + " was already revoked at " + before.get().path("revokedAt").asString());
            } else {
                out.println("revoked token " + what);
            }
            return AneForge.OK;
        }
    }
}
