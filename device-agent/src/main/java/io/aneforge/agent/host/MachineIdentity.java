package io.aneforge.agent.host;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which machine, which start of it and which pid namespace a process runs in: what decides whether the pids two
 * agents write mean the same processes (the compiled-model cache's claim, docs/agents.md "Core ML").
 *
 * <p>The machine id alone proves nothing: a container image can bake one {@code /etc/machine-id} into every
 * container made from it, and a cloned VM keeps its original's hardware UUID, so two machines can carry one id. The
 * boot id tells apart more (the kernel makes a new one at each start and keeps it in memory only), but not all: VMs
 * resumed from one saved memory state carry the same boot id too, and the same pid namespace. So no part, nor all
 * three, proves that two processes run on one machine; the compiled-model cache asks for more before it takes a new
 * name for this machine (a witness on the local disk: {@code CacheClaim}). The machine id is what ties this
 * machine's starts together.
 *
 * @param machine the machine's own id, the same across restarts: the hardware UUID on macOS
 *     ({@code gethostuuid(2)}, System Information's "Hardware UUID"), {@code /etc/machine-id} on Linux
 * @param boot the kernel's id of this start of the machine, new at each boot: {@code kern.bootsessionuuid} on
 *     macOS, {@code /proc/sys/kernel/random/boot_id} on Linux
 * @param pidNamespace this process's pid namespace on Linux ({@code pid:[4026531836]}), pids being numbered per
 *     namespace (a container's own); empty on macOS, which has none
 */
public record MachineIdentity(String machine, String boot, String pidNamespace) {

    /** One token of printable ASCII: each part is written on a line of the claim file after a key and a space. */
    private static final Pattern TOKEN = Pattern.compile("[!-~]{1,128}");
    private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}");

    public MachineIdentity {
        requireToken(machine, "machine");
        requireToken(boot, "boot");
        Objects.requireNonNull(pidNamespace, "pidNamespace");
        if (!pidNamespace.isEmpty()) {
            requireToken(pidNamespace, "pidNamespace");
        }
    }

    /** Same machine, same boot, same pid namespace: a pid written by either names the same process. */
    public boolean samePids(MachineIdentity other) {
        return equals(other);
    }

    /** For messages: {@code machine M, boot B, pid namespace P}. */
    public String describe() {
        return "machine " + machine + ", boot " + boot + (pidNamespace.isEmpty() ? "" : ", pid namespace " + pidNamespace);
    }

    /** Whether {@code value} is a UUID as {@code uuid_unparse(3)} writes it, and not the nil UUID, which names nothing. */
    static boolean isUuid(String value) {
        return UUID.matcher(value).matches() && !value.replace("-", "").replace("0", "").isEmpty();
    }

    private static void requireToken(String value, String field) {
        if (value == null || !TOKEN.matcher(value).matches()) {
            throw new IllegalArgumentException(field + " must be 1 to 128 printable ASCII characters without spaces, got '"
                    + value + "'");
        }
    }

    /**
     * What a probe found: this machine's identity, or why it has none. An agent without one claims its compiled-model
     * cache by host name alone, as agents did before identities, so a missing identity costs the sharing it would
     * allow, never safety.
     *
     * @param identity the identity, or null
     * @param unavailable why there is none (names the file or call and what was wrong), or null
     */
    public record Reading(MachineIdentity identity, String unavailable) {

        public Reading {
            if ((identity == null) == (unavailable == null || unavailable.isBlank())) {
                throw new IllegalArgumentException("a reading holds an identity or the reason there is none, not both"
                        + " nor neither");
            }
        }

        public static Reading of(MachineIdentity identity) {
            return new Reading(Objects.requireNonNull(identity, "identity"), null);
        }

        public static Reading unavailable(String why) {
            return new Reading(null, why);
        }

        public Optional<MachineIdentity> found() {
            return Optional.ofNullable(identity);
        }
    }
}
