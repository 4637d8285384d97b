package io.capstan.faults;

import java.nio.file.Path;

/**
 * One member's place in a test cluster: its index (which fixes its ports, see {@link Target}), its
 * directory (data, configuration, log). The process running in that place comes and goes; {@link
 * Cluster} owns it.
 *
 * @param index 1-based
 * @param name {@code n<index>}
 * @param dir the member's directory
 */
record MemberSlot(int index, String name, Path dir) {
    /** Every member listens on this address. */
    static final String HOST = "127.0.0.1";

    static MemberSlot of(int index, Path runDir) {
        String name = "n" + index;
        return new MemberSlot(index, name, runDir.resolve(name));
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    Path log() {
        return dir.resolve("member.log");
    }

    @Override
    public String toString() {
        return name;
    }
}
