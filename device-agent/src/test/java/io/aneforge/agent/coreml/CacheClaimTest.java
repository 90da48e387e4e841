package io.aneforge.agent.coreml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aneforge.agent.cache.DiskTrouble;
import io.aneforge.agent.host.MachineIdentity;
import io.aneforge.runtime.RuntimeLoadException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
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

    @TempDir
    Path dir;

    static CacheClaim.Claimant claimant(String host, MachineIdentity identity) {
        return new CacheClaim.Claimant(host, null, MachineIdentity.Reading.of(identity));
    }

    /** A claimant whose machine identity cannot be read: it claims by name alone, as agents did before identities. */
    static CacheClaim.Claimant byName(String host) {
        return byName(host, null);
    }

    static CacheClaim.Claimant byName(String host, String formerHost) {
        return new CacheClaim.Claimant(host, formerHost, MachineIdentity.Reading.unavailable("/etc/machine-id is empty"));
    }

    private Path file() {
        return dir.resolve(CacheClaim.FILE);
    }

    private static String claimOf(MachineIdentity id, String... hosts) {
        StringBuilder s = new StringBuilder(CacheClaim.FORMAT + "\nmachine " + id.machine() + "\nboot " + id.boot() + "\n");
        if (!id.pidNamespace().isEmpty()) {
            s.append("pid-namespace ").append(id.pidNamespace()).append('\n');
        }
        for (String h : hosts) {
            s.append("host ").append(h).append('\n');
        }
        return s.toString();
    }

    private AbstractThrowableAssert<?, ? extends Throwable> refused(CacheClaim.Claimant who) throws Exception {
        byte[] before = Files.readAllBytes(file());
        AbstractThrowableAssert<?, ? extends Throwable> refusal = assertThatThrownBy(() -> CacheClaim.claim(dir, who))
                .isInstanceOf(RuntimeLoadException.class)
                .hasCauseInstanceOf(AccessDeniedException.class)
                .satisfies(e -> assertThat(DiskTrouble.in(e)).as("this host's trouble, not the model's").isTrue());
        assertThat(file()).as("a refusal leaves the claim as it was").hasBinaryContent(before);
        assertThat(dir.resolve(CacheClaim.FILE + ".new")).doesNotExist();
        return refusal;
    }

    @Test
    void aFreeDirectoryIsClaimedWithTheMachineIdentityOrByNameWhereThereIsNone() throws Exception {
        CacheClaim.claim(dir, claimant("mac-a", MAC_A));
        assertThat(file()).hasContent(claimOf(MAC_A, "mac-a"));
        assertThat(Files.readString(file())).isEqualTo(CacheClaim.FORMAT + "\n"
                + "machine 564D7E2A-31B3-4C6E-9E0F-6A2B1C3D4E5F\n"
                + "boot 0D6E2F6B-1C4A-4E8B-9F3D-2A1B0C9D8E7F\n"
                + "host mac-a\n");

        Path other = Files.createDirectories(dir.resolve("other"));
        CacheClaim.claim(other, byName("mac-b"));
        assertThat(Files.readString(other.resolve(CacheClaim.FILE))).as("the format of agents before identities")
                .isEqualTo("mac-b\n");

        Files.writeString(file(), " \n");
        CacheClaim.claim(dir, claimant("build-7 pid:[4026531836]", LINUX_HOST));
        assertThat(file()).as("an empty claim is no claim").hasContent(claimOf(LINUX_HOST, "build-7 pid:[4026531836]"));
        assertThat(Files.readString(file())).contains("\npid-namespace pid:[4026531836]\n");
    }

    /** The README's case: one machine under two names, an aneforge.agent.host-name on one agent, the OS's on another. */
    @Test
    void theSameMachineInTheSameBootIsAcceptedUnderAnotherName() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        assertThat(file()).hasContent(claimOf(MAC_A, "studio-7", "mac-a.local"));

        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        assertThat(file()).as("a name the claim lists adds nothing").hasContent(claimOf(MAC_A, "studio-7", "mac-a.local"));
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
     * A machine id can be copied (a container image that bakes /etc/machine-id in, a cloned VM), a boot id cannot: in
     * another boot, only a name the claim has seen with this machine passes, and it renews the boot.
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

        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A_REBOOTED));
        assertThat(file()).as("the machine restarted: a name it had renews the boot")
                .hasContent(claimOf(MAC_A_REBOOTED, "studio-7", "mac-a.local"));
        CacheClaim.claim(dir, claimant("ci-clone", MAC_A_REBOOTED));
        assertThat(file()).as("in the renewed boot, a new name is this machine")
                .hasContent(claimOf(MAC_A_REBOOTED, "studio-7", "mac-a.local", "ci-clone"));

        // The limit (docs/agents.md): a listed name with this machine id passes in any boot, as a name passed before
        // identities, so two machines with one id must not share a name either.
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        assertThat(file()).hasContent(claimOf(MAC_A, "studio-7", "mac-a.local", "ci-clone"));
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
                + " under any name), so the name alone tells hosts apart, and two names count as two hosts even on one"
                + " machine. Give each host name its own aneforge.agent.cache.dir (ANEFORGE_AGENT_CACHE_DIR), e.g. on a"
                + " local disk; agents on one machine that share a directory register under one aneforge.agent.host-name"
                + " (or all without one), which makes them one agent to the registry too. If 'mac-a' was this host's"
                + " earlier name and no agent uses that name any more, delete " + file());

        CacheClaim.claim(dir, claimant("mac-a", MAC_A));
        assertThat(file()).as("upgraded in place").hasContent(claimOf(MAC_A, "mac-a"));
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        assertThat(file()).as("now the machine's other name is accepted").hasContent(claimOf(MAC_A, "mac-a", "studio-7"));
    }

    /** An older claim by the OS's name passes to the agent's own name (same host, same pids), with or without identity. */
    @Test
    void aClaimByTheOsNamePassesToTheAgentsOwnName() throws Exception {
        Files.writeString(file(), "mac-a\n");
        CacheClaim.claim(dir, new CacheClaim.Claimant("studio-7", "mac-a", MachineIdentity.Reading.of(MAC_A)));
        assertThat(file()).hasContent(claimOf(MAC_A, "mac-a", "studio-7"));

        Files.writeString(file(), "mac-a\n");
        CacheClaim.claim(dir, byName("studio-7", "mac-a"));
        assertThat(file()).as("by name alone, the claim moves to the agent's name, as before").hasContent("studio-7\n");
        CacheClaim.claim(dir, byName("studio-7", "mac-a-2"));
        assertThat(file()).as("the OS renamed the host: the agent's name holds").hasContent("studio-7\n");
        refused(byName("mac-a-2")).hasMessageContaining("belongs to host 'studio-7'");
    }

    /** An agent that cannot read its identity is held to names: a listed one passes, another is refused and told why. */
    @Test
    void withoutAnIdentityOfItsOwnAnAgentPassesByAListedNameOnly() throws Exception {
        CacheClaim.claim(dir, claimant("studio-7", MAC_A));
        CacheClaim.claim(dir, claimant("mac-a.local", MAC_A));
        String claimed = Files.readString(file());

        CacheClaim.claim(dir, byName("mac-a.local"));
        assertThat(file()).as("a listed name; the claim keeps its identity").hasContent(claimed);
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
                valid.replace(CacheClaim.FORMAT, "aneforge compiled-model cache claim 3"))) {
            Files.writeString(file(), broken);
            refused(claimant("mac-a", MAC_A)).as(broken).hasMessageContaining("cannot tell which host it belongs to: "
                    + file() + " ");
        }
        Files.writeString(file(), valid + "boot " + MAC_A.boot() + "\n");
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " has two boot lines.");
        Files.writeString(file(), valid.replace(CacheClaim.FORMAT, "aneforge compiled-model cache claim 3"));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " starts with 'aneforge compiled-model cache"
                + " claim 3', a format this agent does not read");
        Files.write(file(), new byte[] {'m', (byte) 0xff, '\n'});
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " is not UTF-8 text.");
        Files.writeString(file(), "x".repeat(64 * 1024 + 1));
        refused(claimant("mac-a", MAC_A)).hasMessageContaining(file() + " is 65537 bytes, more than a claim takes");
    }

    @Test
    void aClaimKeepsTheNewestNamesAndIsRewrittenOnlyWhenItLearnsSomething() throws Exception {
        List<String> names = IntStream.range(0, CacheClaim.MAX_HOSTS + 2).mapToObj(i -> "name-" + i).toList();
        for (String name : names) {
            CacheClaim.claim(dir, claimant(name, MAC_A));
        }
        assertThat(file()).hasContent(claimOf(MAC_A, names.subList(2, names.size()).toArray(String[]::new)));

        FileTime longAgo = FileTime.fromMillis(0);
        Files.setLastModifiedTime(file(), longAgo);
        CacheClaim.claim(dir, claimant("name-5", MAC_A));
        assertThat(Files.getLastModifiedTime(file())).isEqualTo(longAgo);
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
        assertThat(CacheClaim.Claimant.thisHost("").formerHost()).isNull();
    }
}
