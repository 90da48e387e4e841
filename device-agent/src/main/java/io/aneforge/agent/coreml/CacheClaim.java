package io.aneforge.agent.coreml;

import io.aneforge.agent.host.HostProbe;
import io.aneforge.agent.host.JnaSysctl;
import io.aneforge.agent.host.MachineIdentity;
import io.aneforge.io.BoundedFiles;
import io.aneforge.io.IoProblems;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which host a compiled-model cache directory belongs to: {@code <dir>/.host}. The in-use marks and work directories of
 * the cache name processes by pid, which mean something on one host only (on Linux, in one pid namespace), so an agent
 * of another host must not use the directory: it would take the agents running there for ended ones and delete models
 * they have in use.
 *
 * <p>The claim names the host strings its agents run as ({@link #thisHost(String)}) and, where it could be read, the
 * {@link MachineIdentity} of the machine: its own id, the id of its current boot and its pid namespace. An agent is
 * accepted when
 * <ul>
 *   <li>its machine identity is the claim's: same machine, same boot, same pid namespace, whatever its name (one
 *       machine under two names, an {@code aneforge.agent.host-name} on one agent and the OS's name on another);
 *   <li>or it runs under a name the claim lists (or the OS's name of this host is listed and the agent has a name of
 *       its own since) and no identity says otherwise: the machine id and pid namespace, when both sides have them,
 *       are the claim's; the boot may differ, as after a restart of the machine, and is renewed.
 * </ul>
 * A new name in another boot is refused: the machine id alone does not prove the machine, since a container image can
 * bake one {@code /etc/machine-id} into every container and a cloned VM keeps its original's hardware UUID, while the
 * boot id cannot be copied. Where the machine's identity cannot be read, the claim is by name alone, as before
 * identities (then another name is another host even on one machine).
 *
 * <p>File format: a claim written without an identity (and by agents older than identities) is one line, the host
 * string. One with an identity starts with {@link #FORMAT}, then {@code machine <id>}, {@code boot <id>}, optionally
 * {@code pid-namespace <ns>}, and one {@code host <host string>} line per name (at most {@link #MAX_HOSTS}, the oldest
 * dropped first). A claim is replaced by a rename of a complete, synced file, so a crash leaves the old one or the
 * new one. What is neither format is refused, not overwritten: it may be another host's.
 */
final class CacheClaim {

    private static final Logger log = LoggerFactory.getLogger(CacheClaim.class);

    static final String FILE = ".host";
    /** The first line of a claim that records a machine identity; a later format changes the number. */
    static final String FORMAT = "aneforge compiled-model cache claim 2";
    private static final String FORMAT_PREFIX = "aneforge compiled-model cache claim ";
    /** Names one machine's claim keeps: a host renamed many times does not grow the file without bound. */
    static final int MAX_HOSTS = 16;
    /** Far more than {@link #MAX_HOSTS} names of 255 characters take: a larger claim was not written by this code. */
    private static final int MAX_BYTES = 64 * 1024;
    private static final String WHY_ONE_HOST = " because the in-use marks of its models name processes by pid, which mean"
            + " something on one host only: an agent of another host would take the agents running there for ended ones"
            + " and delete models they have in use.";

    private CacheClaim() {}

    /**
     * Who claims a directory.
     *
     * @param host this host as pids see it ({@link #thisHost(String)}; another one in tests, to play an agent elsewhere)
     * @param formerHost this host by its OS name when the agent has a name of its own ({@code aneforge.agent.host-name}):
     *     a claim by it is this host's (made before the agent had that name); or null
     * @param identity this machine's identity, or why there is none (then the claim is by name alone)
     */
    record Claimant(String host, String formerHost, MachineIdentity.Reading identity) {

        Claimant {
            if (host == null || host.isBlank() || host.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("a claimant's host must be text on one line, got '" + host + "'");
            }
            Objects.requireNonNull(identity, "identity");
        }

        /**
         * This host, named {@code agentName} when the agent has a name of its own (else by the OS), with this machine's
         * identity from {@link HostProbe#forCurrentOs()}.
         */
        static Claimant thisHost(String agentName) {
            return new Claimant(CacheClaim.thisHost(agentName), agentName.isEmpty() ? null : CacheClaim.thisHost(""),
                    HostProbe.forCurrentOs().machineIdentity());
        }

        private boolean knows(List<String> hosts) {
            return hosts.contains(host) || (formerHost != null && hosts.contains(formerHost));
        }
    }

    /**
     * This host as pids see it, named {@code agentName} when the agent has a name of its own
     * ({@code aneforge.agent.host-name}, the name the registry knows it by), else by the OS: on Linux the pid namespace
     * follows either way (pids are numbered per namespace, whatever the name), e.g. {@code build-7 pid:[4026531836]}; on
     * macOS, where Core ML runs, {@code kern.hostname}, which the agent also registers with. A name of its own keeps the
     * claim when the OS renames the host (macOS appends "-2" to a name it finds taken on the network), as it keeps the
     * agent's id in the registry.
     */
    static String thisHost(String agentName) {
        Path linuxHostName = Path.of("/proc/sys/kernel/hostname");
        Path pidNamespace = Path.of("/proc/self/ns/pid");
        if (Files.isReadable(linuxHostName)) {
            try {
                String name = agentName.isEmpty() ? Files.readString(linuxHostName).trim() : agentName;
                return Files.exists(pidNamespace, LinkOption.NOFOLLOW_LINKS)
                        ? name + " " + Files.readSymbolicLink(pidNamespace) : name;
            } catch (IOException e) {
                throw new RuntimeLoadException("cannot tell which host this is from " + linuxHostName + " and "
                        + pidNamespace + ": " + IoProblems.describe(e), e);
            }
        }
        return agentName.isEmpty() ? new JnaSysctl().string("kern.hostname").trim() : agentName;
    }

    /**
     * What a claim file says.
     *
     * @param hosts the host strings the claim accepts by name, oldest first (one in a claim without an identity)
     * @param identity the machine's identity, or null in a claim by name alone
     */
    record Recorded(List<String> hosts, MachineIdentity identity) {

        Recorded {
            hosts = List.copyOf(hosts);
            if (hosts.isEmpty() || (identity == null && hosts.size() != 1)) {
                throw new IllegalArgumentException("a claim names one host, or with an identity 1 to " + MAX_HOSTS
                        + ", got " + hosts);
            }
        }

        /** This claim with {@code host} among its names (the oldest dropped beyond {@link #MAX_HOSTS}) and {@code id}. */
        Recorded with(String host, MachineIdentity id) {
            Set<String> names = new LinkedHashSet<>(hosts);
            names.add(host);
            List<String> kept = new ArrayList<>(names);
            return new Recorded(kept.subList(Math.max(0, kept.size() - MAX_HOSTS), kept.size()), id);
        }

        String render() {
            if (identity == null) {
                return hosts.get(0) + "\n";
            }
            StringBuilder text = new StringBuilder(FORMAT).append('\n')
                    .append("machine ").append(identity.machine()).append('\n')
                    .append("boot ").append(identity.boot()).append('\n');
            if (!identity.pidNamespace().isEmpty()) {
                text.append("pid-namespace ").append(identity.pidNamespace()).append('\n');
            }
            hosts.forEach(h -> text.append("host ").append(h).append('\n'));
            return text.toString();
        }

        /** The claim in {@code text} (not blank), or a {@link Corrupt} saying what is wrong with it. */
        static Recorded parse(String text) throws Corrupt {
            List<String> lines = text.strip().lines().toList();
            String first = lines.get(0).strip();
            if (!first.startsWith(FORMAT_PREFIX)) {
                if (lines.size() != 1) {
                    throw new Corrupt("has " + lines.size() + " lines and does not start with '" + FORMAT
                            + "', so it is neither a claim by name (one line) nor one with a machine identity");
                }
                return new Recorded(List.of(first), null);
            }
            if (!first.equals(FORMAT)) {
                throw new Corrupt("starts with '" + first + "', a format this agent does not read (it reads '" + FORMAT
                        + "'): a newer agent's claim?");
            }
            String machine = null;
            String boot = null;
            String namespace = "";
            List<String> hosts = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                int space = line.indexOf(' ');
                String key = space < 0 ? line : line.substring(0, space);
                String value = space < 0 ? "" : line.substring(space + 1);
                switch (key) {
                    case "machine" -> machine = once(machine, value, key);
                    case "boot" -> boot = once(boot, value, key);
                    case "pid-namespace" -> namespace = once(namespace.isEmpty() ? null : namespace, value, key);
                    case "host" -> {
                        if (value.isBlank()) {
                            throw new Corrupt("has a host line without a host");
                        }
                        hosts.add(value);
                    }
                    default -> throw new Corrupt("has the line '" + line + "', which is none of machine, boot,"
                            + " pid-namespace and host");
                }
            }
            if (machine == null || boot == null || hosts.isEmpty() || hosts.size() > MAX_HOSTS) {
                throw new Corrupt("lacks " + (machine == null ? "its machine line" : boot == null ? "its boot line"
                        : hosts.isEmpty() ? "a host line" : "nothing, but has more than " + MAX_HOSTS + " host lines"));
            }
            try {
                return new Recorded(hosts, new MachineIdentity(machine, boot, namespace));
            } catch (IllegalArgumentException e) {
                throw new Corrupt("holds an identity that is not one: " + e.getMessage());
            }
        }

        private static String once(String seen, String value, String key) throws Corrupt {
            if (seen != null) {
                throw new Corrupt("has two " + key + " lines");
            }
            return value;
        }
    }

    /** A claim file this code did not write: the message is a clause after the file's name. */
    static final class Corrupt extends Exception {
        Corrupt(String problem) {
            super(problem);
        }
    }

    /**
     * Under the directory's lock: claims {@code dir} for {@code me} when no one has, accepts it when it is already
     * {@code me}'s (recording what the claim learns: a new name of this machine, its identity, a new boot), and refuses
     * it otherwise with a {@link RuntimeLoadException} caused by an {@link AccessDeniedException}, so that a job which
     * meets it is released as this host's trouble, not failed as its model's.
     */
    static void claim(Path dir, Claimant me) throws IOException {
        Path file = dir.resolve(FILE);
        String text;
        try {
            text = BoundedFiles.readString(file, MAX_BYTES);
        } catch (NoSuchFileException e) {
            text = "";
        } catch (BoundedFiles.Refused e) {
            throw corrupt(dir, file, e.notRegular() ? "is not a regular file"
                    : "is " + e.size() + " bytes, more than a claim takes (" + MAX_BYTES + ")");
        } catch (CharacterCodingException e) {
            throw corrupt(dir, file, "is not UTF-8 text");
        }
        MachineIdentity mine = me.identity().found().orElse(null);
        if (text.isBlank()) {
            Recorded fresh = new Recorded(List.of(me.host()), mine);
            write(file, fresh);
            log.info("compiled-model cache {} is host {}'s ({}{})", dir, me.host(), file,
                    mine == null ? "; by name only: " + me.identity().unavailable() : "; " + mine.describe());
            return;
        }
        Recorded claim;
        try {
            claim = Recorded.parse(text);
        } catch (Corrupt e) {
            throw corrupt(dir, file, e.getMessage());
        }
        Recorded next = accepted(dir, file, claim, me, mine);
        if (!next.equals(claim)) {
            write(file, next);
            log.info("compiled-model cache {} is host {}'s ({}): claimed before by {}{}; now {}", dir, me.host(), file,
                    quoted(claim.hosts()), claim.identity() == null ? "" : " on " + claim.identity().describe(),
                    next.identity() == null ? "by name only" : "for " + quoted(next.hosts()) + " on "
                            + next.identity().describe());
        }
    }

    /** The claim as it stands once {@code me} is accepted (unchanged when there is nothing to record); else throws. */
    private static Recorded accepted(Path dir, Path file, Recorded claim, Claimant me, MachineIdentity mine) {
        MachineIdentity theirs = claim.identity();
        boolean knownName = me.knows(claim.hosts());
        if (theirs == null || mine == null) {
            if (!knownName) {
                throw byName(dir, file, claim, me, mine == null
                        ? "This agent has no machine identity (" + me.identity().unavailable() + ")"
                        : "The claim records no machine identity (an agent older than machine identities wrote it; an"
                                + " agent of this version that runs as " + quoted(claim.hosts()) + " records this"
                                + " machine's at its next load, and then this machine's agents are accepted under any"
                                + " name)");
            }
            if (theirs == null && mine == null) {
                // By name alone, as before identities: a claim by the OS's name passes to the agent's own.
                return claim.hosts().contains(me.host()) ? claim : new Recorded(List.of(me.host()), null);
            }
            return claim.with(me.host(), theirs == null ? mine : theirs);
        }
        if (!theirs.machine().equals(mine.machine())) {
            throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts())
                    + " on machine " + theirs.machine() + " (" + file + "), and this agent runs as host '" + me.host()
                    + "' on machine " + mine.machine() + ": another machine. The directory is claimed by the machine its"
                    + " agents run on," + WHY_ONE_HOST + " Give each machine its own aneforge.agent.cache.dir"
                    + " (ANEFORGE_AGENT_CACHE_DIR), e.g. on a local disk. If this is the machine that claimed it under"
                    + " another id (its machine id written anew, its logic board replaced) and no agent on another"
                    + " machine uses the directory, delete " + file, "belongs to machine " + theirs.machine());
        }
        if (!theirs.pidNamespace().equals(mine.pidNamespace())) {
            throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts())
                    + " in pid namespace " + theirs.pidNamespace() + " of machine " + theirs.machine() + " (" + file
                    + "), and this agent runs as host '" + me.host() + "' in pid namespace " + mine.pidNamespace()
                    + " of the same machine. The directory is claimed by the machine and the pid namespace its agents"
                    + " run in, because the in-use marks of its models name processes by pid, and pids are numbered per"
                    + " namespace (a container has its own): an agent of another namespace would take the agents"
                    + " running there for ended ones and delete models they have in use. Give each container its own"
                    + " aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), or run the agents that share one in one"
                    + " pid namespace. If no agent runs in " + theirs.pidNamespace() + " any more (its container has"
                    + " stopped), delete " + file, "belongs to pid namespace " + theirs.pidNamespace());
        }
        if (!theirs.samePids(mine) && !knownName) { // another boot of this machine id
            throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts())
                    + " on machine " + theirs.machine() + " in boot " + theirs.boot() + " (" + file + "), and this"
                    + " agent runs as host '" + me.host() + "' on machine " + mine.machine() + " in boot "
                    + mine.boot() + ". The same machine id in another boot is this machine started again since, or"
                    + " another machine that carries the same id (a container image that bakes one /etc/machine-id"
                    + " into its containers, a cloned VM): the cache cannot tell them apart, so a name it has not seen"
                    + " with this machine is accepted in the claim's boot only. The directory is claimed by the machine"
                    + " its agents run on," + WHY_ONE_HOST + " If this machine started again, an agent that runs as "
                    + quoted(claim.hosts()) + " renews the claim at its next load, and then this one is accepted; or,"
                    + " when no agent on another machine uses the directory, delete " + file + ". Give another machine"
                    + " its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), and machines made from one image"
                    + " machine ids of their own", "belongs to machine " + theirs.machine() + " in boot "
                    + theirs.boot());
        }
        return claim.with(me.host(), mine);
    }

    /** The refusal when names decide (no identity on one side): the words agents used before identities. */
    private static RuntimeLoadException byName(Path dir, Path file, Recorded claim, Claimant me, String noIdentity) {
        boolean one = claim.hosts().size() == 1;
        return refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts()) + " (" + file
                + "), and this"
                + " agent runs as host '" + me.host() + "'. The directory is claimed by the name its agents give their"
                + " host (aneforge.agent.host-name, else the OS's host name; on Linux with the pid namespace) and the"
                + " machine's identity where it can be read," + WHY_ONE_HOST + " " + noIdentity + ", so the name alone"
                + " tells hosts apart, and two names count as two hosts even on one machine. Give each host name its own"
                + " aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), e.g. on a local disk; agents on one machine"
                + " that share a directory register under one aneforge.agent.host-name (or all without one), which"
                + " makes them one agent to the registry too. If " + names(claim.hosts()) + (one
                        ? " was this host's earlier name and no agent uses that name any more"
                        : " were this host's earlier names and no agent uses them any more") + ", delete " + file,
                "belongs to " + quoted(claim.hosts()));
    }

    private static RuntimeLoadException corrupt(Path dir, Path file, String problem) {
        return refused(file, "the compiled-model cache " + dir + " cannot tell which host it belongs to: " + file + " "
                + problem + ". The claim names the host whose agents use the directory," + WHY_ONE_HOST + " So a claim"
                + " this agent cannot read is neither overwritten nor taken for this host's. If no agent on another host"
                + " uses the directory, delete " + file + "; the next load claims it again", "is not a claim this agent"
                + " reads");
    }

    private static RuntimeLoadException refused(Path file, String message, String why) {
        return new RuntimeLoadException(message, new AccessDeniedException(file.toString(), null, why));
    }

    /** {@code host 'a'} or {@code hosts 'a', 'b'}. */
    private static String quoted(List<String> hosts) {
        return (hosts.size() == 1 ? "host " : "hosts ") + names(hosts);
    }

    /** {@code 'a', 'b'}. */
    private static String names(List<String> hosts) {
        return hosts.stream().map(h -> "'" + h + "'").collect(Collectors.joining(", "));
    }

    /** Replaces the claim with {@code claim}: a complete, synced copy renamed over it, so a crash leaves one or the other. */
    private static void write(Path file, Recorded claim) throws IOException {
        Path next = file.resolveSibling(FILE + ".new");
        try (FileChannel out = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer bytes = StandardCharsets.UTF_8.encode(claim.render());
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
            out.force(true);
        }
        Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
