package io.aneforge.agent.coreml;

import io.aneforge.agent.host.HostProbe;
import io.aneforge.agent.host.JnaSysctl;
import io.aneforge.agent.host.MachineIdentity;
import io.aneforge.agent.host.PidNamespace;
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
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
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
 * {@link MachineIdentity} of the machine: its own id, the id of its current boot and its pid namespace, with the boots
 * it has left behind and a {@link CacheWitness} token. An agent is accepted when
 * <ul>
 *   <li>it runs under a name the claim lists (or the OS's name of this host is listed and the agent has a name of its
 *       own since) and no identity says otherwise: the machine id and pid namespace, when both sides have them, are
 *       the claim's, and its boot is not one the claim has left behind; the boot may be a new one, as after a restart
 *       of the machine, and the claim moves to it;
 *   <li>or, under a name the claim does not list, its machine identity is the claim's (same machine, same boot, same
 *       pid namespace) and it finds the claim's witness on its local disk: one machine under two names, an
 *       {@code aneforge.agent.host-name} on one agent and the OS's name on another.
 * </ul>
 * No part of the identity proves the machine: a container image can bake one {@code /etc/machine-id} into every
 * container and a cloned VM keeps its original's hardware UUID; VMs resumed from one saved memory state also share the
 * boot id and the pid namespace. The witness, a new token written with each claim to the writer's local disk, which
 * clones that parted before do not hold, tells them apart, and a claimant in a boot the claim has left behind is
 * refused outright: boot ids never come back, so it runs on a copy of the machine (or the machine runs on while a copy
 * took the claim). The limits: a listed name on a clone passes (a name must name one machine), and a clone whose disk
 * was copied with the witness passes under a new name until the claim is written again. Where the machine's identity
 * cannot be read, the claim is by name alone, as before identities (then another name is another host even on one
 * machine).
 *
 * <p>File format: a claim written without an identity (and by agents older than identities) is one line, the host
 * string. One with an identity starts with {@link #FORMAT}, then {@code machine <id>}, {@code boot <id>}, optionally
 * {@code pid-namespace <ns>}, one {@code superseded-boot <id>} line per boot left behind (at most
 * {@link #MAX_SUPERSEDED_BOOTS}, oldest first), {@code witness <token>} and one {@code host <host string>} line per name
 * (at most {@link #MAX_HOSTS}, least recently seen first, so the longest unseen is dropped first). A claim is replaced
 * by a rename of a complete, synced file, so a crash leaves the old one or the new one. What is neither format is
 * refused, not overwritten: it may be another host's.
 */
final class CacheClaim {

    private static final Logger log = LoggerFactory.getLogger(CacheClaim.class);

    static final String FILE = ".host";
    /** The first line of a claim that records a machine identity; a later format changes the number. */
    static final String FORMAT = "aneforge compiled-model cache claim 2";
    private static final String FORMAT_PREFIX = "aneforge compiled-model cache claim ";
    /** Names one machine's claim keeps: a host renamed many times does not grow the file without bound. */
    static final int MAX_HOSTS = 16;
    /** Boots a claim remembers having left: enough to catch a copy that lags a few restarts behind. */
    static final int MAX_SUPERSEDED_BOOTS = 8;
    /** Far more than a claim with {@link #MAX_HOSTS} names of 255 characters takes: a larger one was not written here. */
    private static final int MAX_BYTES = 64 * 1024;
    private static final Pattern TOKEN = Pattern.compile("[0-9a-f]{32}");
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
     * @param localDir the directory on this machine's local disk that holds the claim's {@link CacheWitness}
     *     ({@link CacheWitness#LOCAL_DIR}; another in tests, to play another machine's disk)
     */
    record Claimant(String host, String formerHost, MachineIdentity.Reading identity, Path localDir) {

        Claimant {
            if (host == null || host.isBlank() || host.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("a claimant's host must be text on one line, got '" + host + "'");
            }
            Objects.requireNonNull(identity, "identity");
            Objects.requireNonNull(localDir, "localDir");
        }

        /**
         * This host, named {@code agentName} when the agent has a name of its own (else by the OS), with this machine's
         * identity from {@link HostProbe#forCurrentOs()} and its witness in {@code java.io.tmpdir}.
         */
        static Claimant thisHost(String agentName) {
            return new Claimant(CacheClaim.thisHost(agentName), agentName.isEmpty() ? null : CacheClaim.thisHost(""),
                    HostProbe.forCurrentOs().machineIdentity(), CacheWitness.LOCAL_DIR);
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
        if (Files.isReadable(linuxHostName)) {
            try {
                String name = agentName.isEmpty() ? Files.readString(linuxHostName).trim() : agentName;
                return PidNamespace.current().map(ns -> name + " " + ns).orElse(name);
            } catch (IOException e) {
                throw new RuntimeLoadException("cannot tell which host this is from " + linuxHostName + " and its pid"
                        + " namespace: " + IoProblems.describe(e), e);
            }
        }
        return agentName.isEmpty() ? new JnaSysctl().string("kern.hostname").trim() : agentName;
    }

    /**
     * What a claim file says.
     *
     * @param hosts the host strings the claim accepts by name, least recently seen first (one in a claim without an
     *     identity)
     * @param identity the machine's identity, or null in a claim by name alone
     * @param supersededBoots boots of this machine id the claim has moved on from, oldest first (none without identity)
     * @param witness the token of the claim's {@link CacheWitness}; null without an identity, and in a claim about to
     *     be written, which gets a new one
     */
    record Recorded(List<String> hosts, MachineIdentity identity, List<String> supersededBoots, String witness) {

        Recorded {
            hosts = List.copyOf(hosts);
            supersededBoots = List.copyOf(supersededBoots);
            if (hosts.isEmpty() || hosts.size() > MAX_HOSTS || (identity == null && hosts.size() != 1)) {
                throw new IllegalArgumentException("a claim names one host, or with an identity 1 to " + MAX_HOSTS
                        + ", got " + hosts);
            }
            if (identity == null && (!supersededBoots.isEmpty() || witness != null)) {
                throw new IllegalArgumentException("a claim by name alone has no superseded boots and no witness");
            }
        }

        /** A claim by name alone. */
        static Recorded byName(String host) {
            return new Recorded(List.of(host), null, List.of(), null);
        }

        /**
         * This claim with {@code host} as its most recently seen name (removed and added again), the name unseen
         * longest dropped beyond {@link #MAX_HOSTS}.
         */
        Recorded seen(String host) {
            List<String> names = new ArrayList<>(hosts);
            names.remove(host);
            names.add(host);
            return new Recorded(names.subList(Math.max(0, names.size() - MAX_HOSTS), names.size()), identity,
                    supersededBoots, witness);
        }

        /**
         * This claim for {@code next}: a later boot of its machine, the boot it leaves remembered, or the identity of the
         * machine of a claim by name.
         */
        Recorded in(MachineIdentity next) {
            List<String> left = new ArrayList<>(supersededBoots);
            if (identity != null) {
                left.add(identity.boot());
            }
            return new Recorded(hosts, next, left.subList(Math.max(0, left.size() - MAX_SUPERSEDED_BOOTS), left.size()),
                    witness);
        }

        Recorded witnessed(String token) {
            return new Recorded(hosts, identity, supersededBoots, token);
        }

        String render() {
            if (identity == null) {
                return hosts.get(0) + "\n";
            }
            if (witness == null) {
                throw new IllegalStateException("a claim with an identity is written with a witness");
            }
            StringBuilder text = new StringBuilder(FORMAT).append('\n')
                    .append("machine ").append(identity.machine()).append('\n')
                    .append("boot ").append(identity.boot()).append('\n');
            if (!identity.pidNamespace().isEmpty()) {
                text.append("pid-namespace ").append(identity.pidNamespace()).append('\n');
            }
            supersededBoots.forEach(b -> text.append("superseded-boot ").append(b).append('\n'));
            text.append("witness ").append(witness).append('\n');
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
                return byName(first);
            }
            if (!first.equals(FORMAT)) {
                throw new Corrupt("starts with '" + first + "', a format this agent does not read (it reads '" + FORMAT
                        + "'): a newer agent's claim?");
            }
            String machine = null;
            String boot = null;
            String namespace = "";
            String witness = null;
            List<String> superseded = new ArrayList<>();
            List<String> hosts = new ArrayList<>();
            for (String line : lines.subList(1, lines.size())) {
                int space = line.indexOf(' ');
                String key = space < 0 ? line : line.substring(0, space);
                String value = space < 0 ? "" : line.substring(space + 1);
                switch (key) {
                    case "machine" -> machine = once(machine, value, key);
                    case "boot" -> boot = once(boot, value, key);
                    case "pid-namespace" -> namespace = once(namespace.isEmpty() ? null : namespace, value, key);
                    case "superseded-boot" -> superseded.add(value);
                    case "witness" -> witness = once(witness, value, key);
                    case "host" -> {
                        if (value.isBlank()) {
                            throw new Corrupt("has a host line without a host");
                        }
                        hosts.add(value);
                    }
                    default -> throw new Corrupt("has the line '" + line + "', which is none of machine, boot,"
                            + " pid-namespace, superseded-boot, witness and host");
                }
            }
            if (machine == null || boot == null || witness == null || hosts.isEmpty()) {
                throw new Corrupt("lacks " + (machine == null ? "its machine line" : boot == null ? "its boot line"
                        : witness == null ? "its witness line" : "a host line"));
            }
            if (hosts.size() > MAX_HOSTS || superseded.size() > MAX_SUPERSEDED_BOOTS) {
                throw new Corrupt("has more than " + (hosts.size() > MAX_HOSTS ? MAX_HOSTS + " host lines"
                        : MAX_SUPERSEDED_BOOTS + " superseded-boot lines"));
            }
            if (!TOKEN.matcher(witness).matches()) {
                throw new Corrupt("has the witness '" + witness + "', not 32 lowercase hexadecimal digits");
            }
            try {
                for (String b : superseded) {
                    new MachineIdentity(machine, b, namespace); // the same rule as the boot's
                }
                return new Recorded(hosts, new MachineIdentity(machine, boot, namespace), superseded, witness);
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
     * {@code me}'s (recording what the claim learns: a name of this machine, its identity, a new boot, which name was
     * seen last; and writing the witness again where it is gone), and refuses it otherwise with a
     * {@link RuntimeLoadException} caused by an {@link AccessDeniedException}, so that a job which meets it is released
     * as this host's trouble, not failed as its model's.
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
        CacheWitness witness = CacheWitness.of(me.localDir(), dir);
        if (text.isBlank()) {
            write(file, mine == null ? Recorded.byName(me.host()) : new Recorded(List.of(me.host()), mine, List.of(),
                    null), witness);
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
        Recorded next = accepted(dir, file, claim, me, mine, witness);
        // A witness gone (a temporary directory emptied) is written again by an agent the claim accepts by name or in
        // its boot; one that is there, but another's, is left: replacing it would let this machine's new names in.
        if (!next.equals(claim) || (mine != null && next.identity() != null && witness.missing())) {
            write(file, next, witness);
            boolean learned = !Set.copyOf(next.hosts()).equals(Set.copyOf(claim.hosts()))
                    || !Objects.equals(next.identity(), claim.identity());
            String change = "compiled-model cache {} is host {}'s ({}): claimed before by {}{}; now {}";
            Object[] values = {dir, me.host(), file, quoted(claim.hosts()), claim.identity() == null ? ""
                    : " on " + claim.identity().describe(), next.identity() == null ? "by name only"
                    : "for " + quoted(next.hosts()) + " on " + next.identity().describe()};
            if (learned) {
                log.info(change, values);
            } else {
                log.debug(change, values); // only which name was seen last, or a new witness
            }
        }
    }

    /** The claim as it stands once {@code me} is accepted (unchanged when there is nothing to record); else throws. */
    private static Recorded accepted(Path dir, Path file, Recorded claim, Claimant me, MachineIdentity mine,
            CacheWitness witness) {
        MachineIdentity theirs = claim.identity();
        boolean knownName = me.knows(claim.hosts());
        if (theirs == null || mine == null) {
            if (!knownName) {
                throw byName(dir, file, claim, me, mine == null
                        ? "This agent has no machine identity (" + me.identity().unavailable() + ")"
                        : "The claim records no machine identity (an agent older than machine identities wrote it; an"
                                + " agent of this version that runs as " + quoted(claim.hosts()) + " records this"
                                + " machine's at its next load, and then this machine's agents are accepted under other"
                                + " names too)");
            }
            if (theirs != null) {
                return claim; // an agent without an identity adds nothing to a claim by identity: its name proves nothing
            }
            if (mine == null) {
                // By name alone, as before identities: a claim by the OS's name passes to the agent's own.
                return claim.hosts().contains(me.host()) ? claim : Recorded.byName(me.host());
            }
            return claim.in(mine).seen(me.host()); // an older agent's claim, upgraded by its name
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
        if (claim.supersededBoots().contains(mine.boot())) {
            throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts())
                    + " on machine " + theirs.machine() + " in boot " + theirs.boot() + " (" + file + "), and this"
                    + " agent runs as host '" + me.host() + "' on that machine id in boot " + mine.boot() + ", which"
                    + " the claim has left behind for a later one. A machine's boot ids are new at each start and never"
                    + " come back, so two machines carry this machine id: this one is a copy of the other (a VM cloned,"
                    + " or resumed from a saved state), or the other is a copy of it that took over the claim. The"
                    + " directory is claimed by the machine its agents run on," + WHY_ONE_HOST + " Give each copy its own"
                    + " aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR) and a machine id of its own (Linux: empty"
                    + " /etc/machine-id and run systemd-machine-id-setup; a VM: a new hardware UUID from its"
                    + " hypervisor). If no agent of the other copy uses the directory any more, delete " + file,
                    "belongs to machine " + theirs.machine() + " in boot " + theirs.boot() + ", past boot "
                    + mine.boot());
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
        if (!theirs.boot().equals(mine.boot())) {
            if (!knownName) {
                throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts())
                        + " on machine " + theirs.machine() + " in boot " + theirs.boot() + " (" + file + "), and this"
                        + " agent runs as host '" + me.host() + "' on machine " + mine.machine() + " in boot "
                        + mine.boot() + ". The same machine id in another boot is this machine started again since, or"
                        + " another machine that carries the same id (a container image that bakes one /etc/machine-id"
                        + " into its containers, a cloned VM): the cache cannot tell them apart, so a name it has not"
                        + " seen with this machine is accepted in the claim's boot only. The directory is claimed by the"
                        + " machine its agents run on," + WHY_ONE_HOST + " If this machine started again, an agent that"
                        + " runs as " + quoted(claim.hosts()) + " renews the claim at its next load, and then this one"
                        + " is accepted; or, when no agent on another machine uses the directory, delete " + file
                        + ". Give another machine its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), and"
                        + " machines made from one image machine ids of their own", "belongs to machine "
                        + theirs.machine() + " in boot " + theirs.boot());
            }
            return claim.in(mine).seen(me.host()); // this machine started again
        }
        if (!knownName) {
            witness.mismatch(claim.witness()).ifPresent(problem -> {
                throw refused(file, "the compiled-model cache " + dir + " belongs to " + quoted(claim.hosts()) + " on "
                        + theirs.describe() + " (" + file + "), and this agent runs as host '" + me.host() + "' with"
                        + " the same identity but a name the claim does not list, and its witness " + witness.file()
                        + " " + problem + " (the claim's is " + claim.witness() + "). Machines resumed from one saved"
                        + " memory state (cloned VMs) share machine id, boot and pid namespace, so a new name is taken"
                        + " for the claim's machine only where it finds the token that the claim's last writer left on"
                        + " that machine's local disk. The directory is claimed by the machine its agents run on,"
                        + WHY_ONE_HOST + " If this agent runs on that machine, give it the java.io.tmpdir and user of"
                        + " the agents that run as " + names(claim.hosts()) + ", or run it under one of those names"
                        + " (aneforge.agent.host-name); where the witness is gone, the next load of an agent under a"
                        + " listed name writes it again. Otherwise give this machine its own aneforge.agent.cache.dir"
                        + " (ANEFORGE_AGENT_CACHE_DIR), and, when no agent elsewhere uses the directory, delete " + file,
                        "belongs to " + quoted(claim.hosts()) + ", whose witness is not on this machine");
            });
        }
        return claim.seen(me.host());
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

    /**
     * Replaces the claim with {@code claim}; one with an identity gets a new witness token, written on this machine
     * after the claim, with the old witness deleted first, so that a crash between the steps leaves the witness
     * missing (written again at the next pass), never a stale one beside a claim with a new token.
     */
    private static void write(Path file, Recorded claim, CacheWitness witness) throws IOException {
        if (claim.identity() == null) {
            replace(file, claim.render());
            return;
        }
        witness.clear();
        String token = CacheWitness.newToken();
        replace(file, claim.witnessed(token).render());
        witness.write(token);
    }

    /**
     * Replaces {@code file} with {@code text}: a complete, synced copy beside it under a name of its own (new, never
     * followed through a link someone left in a shared temporary directory) renamed over it, so a crash leaves one or
     * the other.
     */
    static void replace(Path file, String text) throws IOException {
        Path next = file.resolveSibling(file.getFileName() + "." + CacheWitness.newToken() + ".new");
        try {
            try (FileChannel out = FileChannel.open(next, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = StandardCharsets.UTF_8.encode(text);
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(next);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }
}
