package io.aneforge.cli;

import io.aneforge.memory.Heap;
import io.aneforge.recipe.RecipeException;
import io.aneforge.source.ModelSourceException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code aneforge} command. Exit codes: 0 success, 1 failure, 2 usage error (bad option,
 * recipe or source). Errors are one line naming the problem and the fix; {@code --verbose} adds
 * the stack trace.
 */
@Command(name = "aneforge", mixinStandardHelpOptions = true, versionProvider = AneForge.Version.class,
        description = "Convert Hugging Face models into Apple Neural Engine optimized Core ML variants.",
        subcommands = {ConvertCommand.class, RecipeCommand.class, EvalCommand.class, PredictCommand.class, PublishCommand.class,
            StatusCommand.class, ResolveCommand.class, PullCommand.class, TokensCommand.class, io.aneforge.cli.up.UpCommand.class,
            CommandLine.HelpCommand.class})
public final class AneForge implements Runnable {

    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    @Option(names = "--verbose", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The environment the registry commands read ({@code ANEFORGE_REGISTRY_URL}, {@code ANEFORGE_TOKEN}). */
    Map<String, String> env = System.getenv();

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: use one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(out, err, args));
    }

    /** Runs a command line in-process (tests use this); returns the exit code. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        return run(out, err, System.getenv(), args);
    }

    /** Like {@link #run(PrintWriter, PrintWriter, String...)} with an explicit environment. */
    public static int run(PrintWriter out, PrintWriter err, Map<String, String> env, String... args) {
        AneForge root = new AneForge();
        root.env = env;
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            err.println(c.getCommandSpec().qualifiedName() + ": " + ex.getMessage());
            err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for the options.");
            err.flush();
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            int code = exitCode(ex);
            err.println(c.getCommandSpec().qualifiedName() + ": " + message(ex));
            if (root.verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return code;
        });
        int code;
        try {
            code = cl.execute(args);
        } catch (OutOfMemoryError e) {
            // picocli hands only Exceptions to the handler above. The frames that held the memory are gone by now,
            // so there is room to say what happened instead of a stack trace.
            err.println(commandName(cl) + ": " + outOfMemory(e, Heap.maxBytes()));
            if (root.verbose) {
                e.printStackTrace(err);
            }
            code = FAILURE;
        }
        out.flush();
        err.flush();
        return code;
    }

    /** The qualified name of the (sub)command that ran, {@code aneforge convert}, for messages. */
    private static String commandName(CommandLine cl) {
        CommandLine.ParseResult parsed = cl.getParseResult();
        if (parsed == null) {
            return cl.getCommandSpec().qualifiedName();
        }
        List<CommandLine> chain = parsed.asCommandLineList();
        return chain.get(chain.size() - 1).getCommandSpec().qualifiedName();
    }

    /** One line for an {@link OutOfMemoryError}: what ran out, the heap this JVM had, and the option that gives more. */
    static String outOfMemory(OutOfMemoryError e, long maxHeapBytes) {
        String what = e.getMessage() == null ? "Java heap space" : e.getMessage();
        if (what.contains("array size")) { // one array over the VM's limit: no heap is large enough
            return oneLine("internal error: out of memory (" + what + "): an array over the JVM's limit was asked for;"
                    + " rerun with --verbose for the stack trace and report it");
        }
        boolean heap = what.contains("heap") || what.contains("GC overhead");
        if (!heap) { // metaspace, native threads, direct buffers: not the -Xmx heap
            return oneLine("out of memory (" + what + "): the machine or the JVM ran out of something other than heap;"
                    + " close other programs or raise the limit the message names (JVM options go in ANEFORGE_JAVA_OPTS)");
        }
        String xmx = Heap.xmxFor(2 * maxHeapBytes);
        return oneLine("out of memory (" + what + ") with a heap of at most " + Heap.describe(maxHeapBytes)
                + ": run with a larger heap, e.g. ANEFORGE_JAVA_OPTS=" + xmx + " ./aneforge ...");
    }

    static int exitCode(Throwable e) {
        if (e instanceof UsageException || e instanceof RecipeException || e instanceof ModelSourceException
                || e instanceof io.aneforge.cli.reference.ReferenceException r && r.usage()) {
            return USAGE; // a ReferenceException says itself whether another --source or --reference fixes it
        }
        return FAILURE;
    }

    /**
     * Domain exceptions carry a complete message; anything else is a bug and says so. Always one line: a message
     * that spans several (a parser's location on a line of its own) has its lines joined.
     */
    static String message(Throwable e) {
        if (e instanceof IllegalStateException || e instanceof NullPointerException || e instanceof ClassCastException
                || e instanceof IndexOutOfBoundsException || e.getMessage() == null) {
            return oneLine("internal error: " + e + " (rerun with --verbose for the stack trace and report it)");
        }
        return oneLine(e.getMessage());
    }

    static String oneLine(String message) {
        return message.lines().map(String::strip).filter(l -> !l.isEmpty()).collect(java.util.stream.Collectors.joining(" "));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = AneForge.class.getPackage().getImplementationVersion();
            return new String[] {"aneforge " + (v == null ? "development build" : v)};
        }
    }
}
