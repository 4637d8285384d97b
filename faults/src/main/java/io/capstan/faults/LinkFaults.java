package io.capstan.faults;

import java.io.IOException;
import java.util.Collection;

/**
 * Drops of the Raft messages between members, where the target has a way to drop them: Capstan's
 * {@code /v1/faults/peers} (with {@code capstan.transport.fault-injection = on}). A drop acts on
 * what one member sends, so a partition is a drop on both sides and a one-way drop is one side's.
 *
 * <p>Threads: the control thread only.
 */
interface LinkFaults {
    /**
     * From now on {@code from} sends nothing to any of {@code to}, and sends to every other member
     * normally.
     */
    void drop(MemberSlot from, Collection<MemberSlot> to) throws IOException;

    /** {@code member} sends to every member normally again. */
    void heal(MemberSlot member) throws IOException;
}
