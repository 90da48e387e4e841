package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.cache.DiskTrouble;
import io.aneforge.agent.host.MachineIdentity;
import io.aneforge.runtime.RuntimeLoadException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim on a compiled-model cache directory ({@code .host}), file by file: who is accepted, what the claim learns
 * and keeps, what is refused and how it is told. Machine identities are written out here; the probes that read real
 * ones have their own tests ({@code MacHostProbeTest}, {@code LinuxHostProbeTest}).
 */
class CacheClaimTest {

    static final MachineIdentity MAC_A = new MachineIdentity("564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F",
            "0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F", "");
    static final MachineIdentity MAC_B = new MachineIdentity("9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A",
            "7A6B5C4D-3E2F-4102-9A8B-7C6D5E4F3A2B", "");
    /** MAC_A started again: the same machine id, a new boot. */
    static final MachineIdentity MAC_A_REBOOTED = new MachineIdentity(MAC_A.machine(),
            "1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9", "");
    static final MachineIdentity LINUX_HOST = new MachineIdentity("3d1219c7c4c5404aaa1f6d2a48adfda4",
            "3906ab3c-0dff-48d6-ac04-3a62aa7ece64", "pid:[4026531836]");
    static final MachineIdentity LINUX_CONTAINER = new MachineIdentity(LINUX_HOST.machine(), LINUX_HOST.boot(),
            "pid:[4026532512]");

    /** What claimOf writes for the witness, and claimed() reads for the real, random one. */
    private static final String WITNESS = "0123456789abcdef0123456789abcdef";

    @TempDir
    Path dir;
    /** This machine's local disk, where the claim's witness lives. */
    @TempDir
    Path local;
    /** Another machine's local disk: a VM resumed from the same saved memory state as this one. */
    @TempDir
    Path cloneLocal;

    static CacheClaim.Claimant claimant(String host, MachineIdentity identity, Path localDir) {
        return new CacheClaim.Claimant(host, null, MachineIdentity.Reading.of(identity), localDir);
    }

    /** A claimant whose machine identity cannot be read: it claims by name alone, as agents did before identities. */
    static CacheClaim.Claimant byName(String host, String formerHost, Path localDir) {
        return new CacheClaim.Claimant(host, formerHost, MachineIdentity.Reading.unavailable("/etc/machine-id is empty"),
                localDir);
    }

    /** An agent on this machine. */
    private CacheClaim.Claimant claimant(String host, MachineIdentity identity) {
        return claimant(host, identity, local);
    }

    private CacheClaim.Claimant byName(String host) {
        return byName(host, null, local);
    }

    private CacheClaim.Claimant byName(String host, String formerHost) {
        return byName(host, formerHost, local);
    }

    private Path file() {
        return dir.resolve(CacheClaim.FILE);
    }

    private Path witnessIn(Path localDir) throws Exception {
        return CacheWitness.of(localDir, dir).file();
    }

    /** A claim as CacheClaim writes it, with {@link #WITNESS} for its random witness. */
    private static String claimOf(MachineIdentity id, List<String> superseded, String... hosts) {
        StringBuilder s = new StringBuilder(CacheClaim.FORMAT + "\nmachine " + id.machine() + "\nboot " + id.boot() + "\n");
        if (!id.pidNamespace().isEmpty()) {
            s.append("pid-namespace ").append(id.pidNamespace()).append('\n');
        }
        superseded.forEach(b -> s.append("superseded-boot ").append(b).append('\n'));
        s.append("witness ").append(WITNESS).append('\n');
        for (String h : hosts) {
            s.append("host ").append(h).append('\n');
        }
        return s.toString();
    }

    private static String claimOf(MachineIdentity id, String... hosts) {
        return claimOf(id, List.of(), hosts);
    }

    /** The claim's token, after checking that this machine's witness holds it. */
    private String token() throws Exception {
        Matcher m = Pattern.compile("\nwitness ([0-9a-f]{32})\n").matcher(Files.readString(file()));
        assertThat(m.find()).as("a claim with an identity has a witness").isTrue();
        assertThat(witnessIn(local)).as("written on this machine").hasContent(m.group(1) + "\n");
        return m.group(1);
    }

    /** The claim, its witness (checked: this machine holds it) written as {@link #WITNESS}. */
    private String claimed() throws Exception {
        return Files.readString(file()).replace("\nwitness " + token() + "\n", "\nwitness " + WITNESS + "\n");
    }

    private AbstractThrowableAssert<?, ? extends Throwable> refused(CacheClaim.Claimant who) throws Exception {
        byte[] before = Files.readAllBytes(file());
        AbstractThrowableAssert<?, ? extends Throwable> refusal = assertThatThrownBy(() -> CacheClaim.claim(dir, who))
                .isInstanceOf(RuntimeLoadException.class)
                .hasCauseInstanceOf(AccessDeniedException.class)
                .satisfies(e -> assertThat(DiskTrouble.in(e)).as("this host's trouble, not the model's").isTrue());
        assertThat(file()).as("a refusal leaves the claim as it was").hasBinaryContent(before);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("and nothing beside it")
                    .containsExactly(CacheClaim.FILE);
        }
        return refusal;
    }

    @Test
    void aFreeDirectoryIsClaimedWithTheMachineIdentityOrByNameWhereThereIsNone() throws Exception {
        CacheClaim.claim(dir, claimant("mac-a", MAC_A));
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, "mac-a")).isEqualTo(CacheClaim.FORMAT + "\n"
                + "machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F\n"
                + "boot 0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F\n"
                + "witness " + WITNESS + "\n"
                + "host mac-a\n");
        assertThat(witnessIn(local).getFileName().toString()).matches(CacheWitness.PREFIX + "[0-9a-f]{32}");

        Path other = Files.createDirectories(dir.resolve("other"));
        CacheClaim.claim(other, byName("mac-b"));
        assertThat(Files.readString(other.resolve(CacheClaim.FILE))).as("the format of agents before identities")
                .isEqualTo("mac-b\n");
        assertThat(CacheWitness.of(local, other).file()).as("a claim by name has no witness").doesNotExist();

        Files.writeString(file(), " \n");
        CacheClaim.claim(dir, claimant("build-7 pid:[4026531836]", LINUX_HOST));
        assertThat(claimed()).as("an empty claim is no claim").isEqualTo(claimOf(LINUX_HOST, "build-7 pid:[4026531836]"));
        assertThat(Files.readString(file())).contains("\npid-namespace pid:[4026531836]\n");
    }

    /** The README's case: one machine under two names, an aneforge.agent.host-name on one agent, the OS's on another. */
    @Test
    void theSameMachineInTheSameBootIsAcceptedUnderAnotherNameWhereItFindsTheWitness() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        String first = token();
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, "studio-7", "mac-a.local"));
        assertThat(token()).as("each claim written gets a new token").isNotEqualTo(first);

        String held = token();
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        assertThat(token()).as("a name seen last changes nothing").isEqualTo(held);
    }

    /**
     * VMs resumed from one saved memory state share machine id, boot and pid namespace; not the witness, written on the
     * claiming machine's disk after they parted. A clone under a new name is refused; under a listed name it passes
     * (the limit that remains: a name must name one machine).
     */
    @Test
    void aCloneWithTheSameIdentityUnderANewNameIsRefusedWithoutTheWitness() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        Path witness = witnessIn(cloneLocal);

        refused(claimant("clone-9", MAC_A, cloneLocal)).hasMessage("the compiled-model cache " + dir + " belongs to host"
                + " 'studio-7' on machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F, boot 0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F ("
                + file() + "), and this agent runs as host 'clone-9' with the same identity but a name the claim does"
                + " not list, and its witness " + witness + " does not exist (the claim's is " + token() + ")."
                + " Machines resumed from one saved memory state (cloned VMs) share machine id, boot and pid namespace,"
                + " so a new name is taken for the claim's machine only where it finds the token that the claim's last"
                + " writer left on that machine's local disk. The directory is claimed by the machine its agents run on,"
                + " because the in-use marks of its models name processes by pid, which mean something on one host"
                + " only: an agent of another host would take the agents running there for ended ones and delete models"
                + " they have in use. If this agent runs on that machine, give it the java.io.tmpdir and user of the"
                + " agents that run as 'studio-7', or run it under one of those names (aneforge.agent.host-name); where"
                + " the witness is gone, the next load of an agent under a listed name writes it again. Otherwise give"
                + " this machine its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), and, when no agent"
                + " elsewhere uses the directory, delete " + file());
        assertThat(witness).as("a refused agent writes no witness").doesNotExist();

        Files.writeString(witness, "fedcba9876543210fedcba9876543210\n");
        refused(claimant("clone-9", MAC_A, cloneLocal)).hasMessageContaining("its witness " + witness + " holds another"
                + " token (the claim's is " + token() + ")");
        Files.delete(witness);
        Files.createDirectory(witness);
        refused(claimant("clone-9", MAC_A, cloneLocal)).hasMessageContaining("its witness " + witness + " cannot be read"
                + " (" + witness + " is a directory, not a regular file)");
        Files.delete(witness);

        // The limit: a listed name passes, and where it finds no witness (as after its temporary directory was
        // emptied) it writes one, on its own disk; then the clone's new names pass and the original's are refused.
        CacheClaim.claim(dir, claimant("studio-7", MAC_A, cloneLocal));
        assertThat(witness).hasContent(Files.readString(file()).replaceAll("(?s).*\nwitness (\\w+)\n.*", "$1") + "\n");
        refused(claimant("mac-a.local", MAC_A)).hasMessageContaining("holds another token");
        CacheClaim.claim(dir, claimant("clone-9", MAC_A, cloneLocal));
        assertThat(Files.readString(file())).endsWith("host studio-7\nhost clone-9\n");
    }

    /**
     * A clone whose disk was copied with the witness passes under a new name: the limit that remains. But each claim
     * written gets a new token, on the writer's disk only, so once one clone has written the claim the other's new names
     * are refused again.
     */
    @Test
    void aWitnessCopiedWithTheDiskPassesUntilTheClaimIsWrittenAgain() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        Files.copy(witnessIn(local), witnessIn(cloneLocal));

        CacheClaim.claim(dir, claimant("clone-9", MAC_A, cloneLocal));
        assertThat(Files.readString(file())).endsWith("host studio-7\nhost clone-9\n");
        refused(claimant("mac-a.local", MAC_A)).hasMessageContaining("holds another token");
    }

    /** A temporary directory emptied (or a crash between the claim and its witness): an agent under a listed name writes it again. */
    @Test
    void aWitnessThatIsGoneIsWrittenAgainByAListedName() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        Files.delete(witnessIn(local));
        refused(claimant("mac-a.local", MAC_A)).hasMessageContaining("does not exist");

        String before = Files.readString(file());
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        assertThat(Files.readString(file())).as("a new token").isNotEqualTo(before);
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, "studio-7"));

        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, "studio-7", "mac-a.local"));

        Files.delete(witnessIn(local));
        CacheClaim.claim(dir, byName("studio-7"));
        assertThat(witnessIn(local)).as("an agent without an identity writes no witness").doesNotExist();
    }

    /** A witness that cannot be written is this machine's trouble, told with the fix; the claim is left as it was. */
    @Test
    void aWitnessThatCannotBeWrittenSaysWhereAndHowToFixIt() throws Exception {
        Path notADirectory = Files.writeString(local.resolve("file"), "");
        CacheClaim.Claimant me = claimant("mac-a", MAC_A, notADirectory);
        Path witness = CacheWitness.of(notADirectory, dir).file();

        assertThatThrownBy(() -> CacheClaim.claim(dir, me)).isInstanceOf(IOException.class)
                .hasMessageStartingWith("cannot delete " + witness + ", the witness on this machine's disk of the"
                        + " compiled-model cache's claim: ")
                .hasMessageEndingWith(". It lives in " + notADirectory + " (java.io.tmpdir), which must be a writable"
                        + " local directory: fix its permissions, or start the agent with -Djava.io.tmpdir=<a writable"
                        + " local directory>, the same for all agents that share the cache directory");
        assertThat(file()).as("no claim without its witness").doesNotExist();
    }

    @Test
    void anotherMachineIsRefusedEvenUnderTheSameName() throws Exception {
        CacheClaim.claim(dir, claimant("mac-a", MAC_A));

        refused(claimant("mac-a", MAC_B)).hasMessage("the compiled-model cache " + dir + " belongs to host 'mac-a' on"
                + " machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F (" + file() + "), and this agent runs as host 'mac-a'"
                + " on machine 9F8E7D6C-5B4A-4392-8170-6F5E4D3C2B1A: another machine. The directory is claimed by the"
                + " machine its agents run on, because the in-use marks of its models name processes by pid, which mean"
                + " something on one host only: an agent of another host would take the agents running there for ended"
                + " ones and delete models they have in use. Give each machine its own aneforge.agent.cache.dir"
                + " (ANEFORGE_AGENT_CACHE_DIR), e.g. on a local disk. If this is the machine that claimed it under"
                + " another id (its machine id written anew, its logic board replaced) and no agent on another machine"
                + " uses the directory, delete " + file());
        refused(claimant("mac-b", MAC_B)).hasMessageContaining("belongs to host 'mac-a' on machine " + MAC_A.machine());
    }

    /** Pids are numbered per pid namespace: a container with its own is another host to the directory. */
    @Test
    void anotherPidNamespaceOfTheSameMachineIsRefused() throws Exception {
        CacheClaim.claim(dir, claimant("build-7 pid:[4026531836]", LINUX_HOST));

        refused(claimant("build-7 pid:[4026532512]", LINUX_CONTAINER)).hasMessageStartingWith("the compiled-model cache "
                + dir + " belongs to host 'build-7 pid:[4026531836]' in pid namespace pid:[4026531836] of machine"
                + " 3d1219c7c4c5404aaa1f6d2a48adfda4 (" + file() + "), and this agent runs as host"
                + " 'build-7 pid:[4026532512]' in pid namespace pid:[4026532512] of the same machine.")
                .hasMessageContaining("pids are numbered per namespace (a container has its own)")
                .hasMessageEndingWith("Give each container its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), or"
                        + " run the agents that share one in one pid namespace. If no agent runs in pid:[4026531836] any"
                        + " more (its container has stopped), delete " + file());
    }

    /**
     * A machine id can be copied (a container image that bakes /etc/machine-id in, a cloned VM): in another boot, only
     * a name the claim has seen with this machine passes, and it moves the claim to the new boot.
     */
    @Test
    void inAnotherBootOnlyANameTheClaimKnowsIsAcceptedAndRenewsTheBoot() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));

        refused(claimant("ci-clone", MAC_A_REBOOTED)).hasMessage("the compiled-model cache " + dir + " belongs to hosts"
                + " 'studio-7', 'mac-a.local' on machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F in boot"
                + " 0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F (" + file() + "), and this agent runs as host 'ci-clone' on"
                + " machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F in boot 1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9. The same"
                + " machine id in another boot is this machine started again since, or another machine that carries the"
                + " same id (a container image that bakes one /etc/machine-id into its containers, a cloned VM): the"
                + " cache cannot tell them apart, so a name it has not seen with this machine is accepted in the claim's"
                + " boot only. The directory is claimed by the machine its agents run on, because the in-use marks of"
                + " its models name processes by pid, which mean something on one host only: an agent of another host"
                + " would take the agents running there for ended ones and delete models they have in use. If this"
                + " machine started again, an agent that runs as hosts 'studio-7', 'mac-a.local' renews the claim at its"
                + " next load, and then this one is accepted; or, when no agent on another machine uses the directory,"
                + " delete " + file() + ". Give another machine its own aneforge.agent.cache.dir"
                + " (ANEFORGE_AGENT_CACHE_DIR), and machines made from one image machine ids of their own");

        CacheClaim.claim(dir, claimant("studio-7", MAC_A_REBOOTED));
        assertThat(claimed()).as("the machine restarted: a name it had renews the boot and is the one seen last")
                .isEqualTo(claimOf(MAC_A_REBOOTED, List.of(MAC_A.boot()), "mac-a.local", "studio-7"));
        CacheClaim.claim(dir, claimant("ci-clone", MAC_A_REBOOTED));
        assertThat(claimed()).as("in the renewed boot, a new name of this machine (it holds the witness)")
                .isEqualTo(claimOf(MAC_A_REBOOTED, List.of(MAC_A.boot()), "mac-a.local", "studio-7", "ci-clone"));
    }

    /**
     * Boot ids never come back: an agent in a boot the claim has left runs on a copy of the machine (a VM cloned or
     * resumed from a saved state), refused even under a listed name. The claim remembers the last few.
     */
    @Test
    void aBootTheClaimHasLeftBehindIsACopyAndIsRefusedUnderAnyName() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        CacheClaim.claim(dir, claimant("studio-7", MAC_A_REBOOTED)); // one copy started again

        refused(claimant("studio-7", MAC_A, cloneLocal)).hasMessage("the compiled-model cache " + dir + " belongs to"
                + " host 'studio-7' on machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F in boot"
                + " 1B2C3D4E-5F60-4718-8293-A4B5C6D7E8F9 (" + file() + "), and this agent runs as host 'studio-7' on"
                + " that machine id in boot 0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F, which the claim has left behind for a"
                + " later one. A machine's boot ids are new at each start and never come back, so two machines carry"
                + " this machine id: this one is a copy of the other (a VM cloned, or resumed from a saved state), or"
                + " the other is a copy of it that took over the claim. The directory is claimed by the machine its"
                + " agents run on, because the in-use marks of its models name processes by pid, which mean something"
                + " on one host only: an agent of another host would take the agents running there for ended ones and"
                + " delete models they have in use. Give each copy its own aneforge.agent.cache.dir"
                + " (ANEFORGE_AGENT_CACHE_DIR) and a machine id of its own (Linux: empty /etc/machine-id and run"
                + " systemd-machine-id-setup; a VM: a new hardware UUID from its hypervisor). If no agent of the other"
                + " copy uses the directory any more, delete " + file());

        List<String> boots = IntStream.range(0, CacheClaim.MAX_SUPERSEDED_BOOTS + 2)
                .mapToObj(i -> String.format("1B2C3D4E-5F60-4718-8293-%012d", i + 1)).toList();
        for (String boot : boots) {
            CacheClaim.claim(dir, claimant("studio-7", new MachineIdentity(MAC_A.machine(), boot, "")));
        }
        List<String> left = new java.util.ArrayList<>(List.of(MAC_A.boot(), MAC_A_REBOOTED.boot()));
        left.addAll(boots.subList(0, boots.size() - 1));
        assertThat(claimed()).as("the last %d boots left", CacheClaim.MAX_SUPERSEDED_BOOTS).isEqualTo(claimOf(
                new MachineIdentity(MAC_A.machine(), boots.get(boots.size() - 1), ""),
                left.subList(left.size() - CacheClaim.MAX_SUPERSEDED_BOOTS, left.size()), "studio-7"));
        refused(claimant("studio-7", new MachineIdentity(MAC_A.machine(), boots.get(1), "")))
                .hasMessageContaining("in boot " + boots.get(1) + ", which the claim has left behind");
    }

    /** A claim by an agent before machine identities: one line, the host. The same name takes it over and upgrades it. */
    @Test
    void anOlderAgentsClaimIsUpgradedByTheSameNameAndRefusesAnother() throws Exception {
        Files.writeString(file(), "mac-a\n");

        refused(claimant("studio-7", MAC_A)).hasMessage("the compiled-model cache " + dir + " belongs to host 'mac-a' ("
                + file() + "), and this agent runs as host 'studio-7'. The directory is claimed by the name its agents"
                + " give their host (aneforge.agent.host-name, else the OS's host name; on Linux with the pid namespace)"
                + " and the machine's identity where it can be read, because the in-use marks of its models name"
                + " processes by pid, which mean something on one host only: an agent of another host would take the"
                + " agents running there for ended ones and delete models they have in use. The claim records no machine"
                + " identity (an agent older than machine identities wrote it; an agent of this version that runs as"
                + " host 'mac-a' records this machine's at its next load, and then this machine's agents are accepted"
                + " under other names too), so the name alone tells hosts apart, and two names count as two hosts even"
                + " on one machine. Give each host name its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), e.g."
                + " on a local disk; agents on one machine that share a directory register under one"
                + " aneforge.agent.host-name (or all without one), which makes them one agent to the registry too. If"
                + " 'mac-a' was this host's earlier name and no agent uses that name any more, delete " + file());

        CacheClaim.claim(dir, claimant("mac-a", MAC_A));
        assertThat(claimed()).as("upgraded in place").isEqualTo(claimOf(MAC_A, "mac-a"));
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        assertThat(claimed()).as("now the machine's other name is accepted").isEqualTo(claimOf(MAC_A, "mac-a", "studio-7"));
    }

    /** An older claim by the OS's name passes to the agent's own name (same host, same pids), with or without identity. */
    @Test
    void aClaimByTheOsNamePassesToTheAgentsOwnName() throws Exception {
        Files.writeString(file(), "mac-a\n");
        CacheClaim.claim(dir, new CacheClaim.Claimant("studio-7", "mac-a", MachineIdentity.Reading.of(MAC_A), local));
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, "mac-a", "studio-7"));

        Files.writeString(file(), "mac-a\n");
        CacheClaim.claim(dir, byName("studio-7", "mac-a"));
        assertThat(file()).as("by name alone, the claim moves to the agent's name, as before").hasContent("studio-7\n");
        CacheClaim.claim(dir, byName("studio-7", "mac-a-2"));
        assertThat(file()).as("the OS renamed the host: the agent's name holds").hasContent("studio-7\n");
        refused(byName("mac-a-2")).hasMessageContaining("belongs to host 'studio-7'");
    }

    /**
     * An agent that cannot read its identity is held to names: a listed one passes and changes nothing (its name proves
     * no machine, so it is not added even when it passes by the OS's name), another is refused and told why.
     */
    @Test
    void withoutAnIdentityOfItsOwnAnAgentPassesByAListedNameOnlyAndChangesNothing() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        String claimed = Files.readString(file());

        CacheClaim.claim(dir, byName("studio-7"));
        assertThat(file()).as("a listed name; the claim keeps its identity and its order").hasContent(claimed);
        CacheClaim.claim(dir, byName("ns-a.agent-0", "mac-a.local"));
        assertThat(file()).as("passing by the OS's name adds the agent's own no more").hasContent(claimed);
        refused(byName("mac-b")).hasMessageStartingWith("the compiled-model cache " + dir + " belongs to hosts 'studio-7',"
                + " 'mac-a.local' (" + file() + "), and this agent runs as host 'mac-b'.")
                .hasMessageContaining(" This agent has no machine identity (/etc/machine-id is empty), so the name alone"
                        + " tells hosts apart, and two names count as two hosts even on one machine.")
                .hasMessageEndingWith("If 'studio-7', 'mac-a.local' were this host's earlier names and no agent uses"
                        + " them any more, delete " + file());
    }

    /** What this code did not write is another host's for all it knows: refused, never overwritten. */
    @Test
    void aCorruptClaimIsRefusedAndKept() throws Exception {
        Files.writeString(file(), "mac-a\nmac-b\n");
        refused(claimant("mac-a", MAC_A)).hasMessage("the compiled-model cache " + dir + " cannot tell which host it"
                + " belongs to: " + file() + " has 2 lines and does not start with '" + CacheClaim.FORMAT + "', so it is"
                + " neither a claim by name (one line) nor one with a machine identity. The claim names the host whose"
                + " agents use the directory, because the in-use marks of its models name processes by pid, which mean"
                + " something on one host only: an agent of another host would take the agents running there for ended"
                + " ones and delete models they have in use. So a claim this agent cannot read is neither overwritten"
                + " nor taken for this host's. If no agent on another host uses the directory, delete " + file()
                + "; the next load claims it again");

        String valid = claimOf(MAC_A, "mac-a");
        for (String broken : List.of(
                valid.replace("machine " + MAC_A.machine() + "\n", ""),
                valid.replace("host mac-a\n", ""),
                valid + "boot " + MAC_A.boot() + "\n",
                valid + "owner someone\n",
                valid + "host \n",
                valid.replace("boot " + MAC_A.boot(), "boot has spaces"),
                valid.replace("witness " + WITNESS, "witness"),
                valid.replace(CacheClaim.FORMAT, "aneforge compiled-model cache claim 3"))) {
            Files.writeString(file(), broken);
            refused(claimant("mac-a", MAC_A)).as(broken).hasMessageContaining("cannot tell which host it belongs to: "
                    + file() + " ");
        }
        Files.writeString(file(), valid + "boot " + MAC_A.boot() + "\n");
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " has two boot lines.");
        Files.writeString(file(), valid.replace("witness " + WITNESS + "\n", ""));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " lacks its witness line.");
        Files.writeString(file(), valid.replace(WITNESS, WITNESS.toUpperCase(java.util.Locale.ROOT)));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " has the witness '" + WITNESS.toUpperCase(
                java.util.Locale.ROOT) + "', not 32 lowercase hexadecimal digits.");
        Files.writeString(file(), claimOf(MAC_A, List.of("a boot"), "mac-a"));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " holds an identity that is not one: boot must be");
        Files.writeString(file(), claimOf(MAC_A, Collections.nCopies(CacheClaim.MAX_SUPERSEDED_BOOTS + 1, MAC_A.boot()),
                "mac-a"));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " has more than 8 superseded-boot lines.");
        Files.writeString(file(), valid.replace(CacheClaim.FORMAT, "aneforge compiled-model cache claim 3"));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " starts with 'aneforge compiled-model cache"
                + " claim 3', a format this agent does not read");
        Files.write(file(), new byte[] {'m', (byte) 0xff, '\n'});
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " is not UTF-8 text.");
        Files.writeString(file(), "x".repeat(64 * 1024 + 1));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " is 65537 bytes, more than a claim takes");
    }

    /**
     * Names are kept least recently seen first, so the one dropped beyond {@link CacheClaim#MAX_HOSTS} is the one unseen
     * longest; the claim is written again only when that order changes.
     */
    @Test
    void aClaimKeepsTheNamesSeenLastAndIsRewrittenOnlyWhenTheirOrderChanges() throws Exception {
        List<String> names = IntStream.range(0, CacheClaim.MAX_HOSTS).mapToObj(i -> "name-" + i).toList();
        for (String name : names) {
            CacheClaim.claim(dir, claimant(name, MAC_A));
        }
        assertThat(claimed()).isEqualTo(claimOf(MAC_A, names.toArray(String[]::new)));

        FileTime longAgo = FileTime.fromMillis(0);
        Files.setLastModifiedTime(file(), longAgo);
        CacheClaim.claim(dir, claimant("name-15", MAC_A));
        assertThat(Files.getLastModifiedTime(file())).as("the name seen last: nothing changes").isEqualTo(longAgo);

        CacheClaim.claim(dir, claimant("name-0", MAC_A));
        assertThat(Files.getLastModifiedTime(file())).isNotEqualTo(longAgo);
        CacheClaim.claim(dir, claimant("name-new", MAC_A));
        List<String> kept = new java.util.ArrayList<>(names.subList(2, names.size()));
        kept.add("name-0");
        kept.add("name-new");
        assertThat(claimed()).as("name-0 was seen again; name-1, unseen longest, is dropped")
                .isEqualTo(claimOf(MAC_A, kept.toArray(String[]::new)));
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly(CacheClaim.FILE);
        }
    }

    @Test
    void thisHostIsTheHostNameAndOnLinuxThePidNamespace() throws Exception {
        Path hostName = Path.of("/proc/sys/kernel/hostname");
        Assumptions.assumeTrue(Files.isReadable(hostName), "Linux");
        String pidNamespace = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        assertThat(CacheClaim.thisHost("")).isEqualTo(Files.readString(hostName).trim() + " " + pidNamespace)
                .matches(".+ pid:\\[\\d+]");
        assertThat(CacheClaim.thisHost("ns-a.aneforge-agent-0")).isEqualTo("ns-a.aneforge-agent-0 " + pidNamespace);

        CacheClaim.Claimant me = CacheClaim.Claimant.thisHost("ns-a.aneforge-agent-0");
        assertThat(me.host()).isEqualTo("ns-a.aneforge-agent-0 " + pidNamespace);
        assertThat(me.formerHost()).isEqualTo(CacheClaim.thisHost(""));
        me.identity().found().ifPresent(id -> assertThat(id.pidNamespace()).isEqualTo(pidNamespace));
        assertThat(me.localDir()).isEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
        assertThat(CacheClaim.Claimant.thisHost("").formerHost()).isNull();
    }
}
