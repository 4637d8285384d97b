package io.capstan.faults;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the harness runs as members: Capstan or etcd, every member on {@link MemberSlot#HOST} with
 * ports fixed by its index (in 27xxx, which no other script of the project uses). Immutable.
 */
interface Target {
    /** {@code capstan} or {@code etcd}. */
    String name();

    /** The port of {@code member}'s etcd v3 gRPC API. */
    int clientPort(MemberSlot member);

    /** The peer URL {@code member} is listed with in the cluster's membership. */
    String peerUrl(MemberSlot member);

    /**
     * Writes what {@code member} needs to start (its configuration) and returns its command line.
     *
     * @param members the members of the cluster, itself included
     * @param join whether it joins a running cluster that added it (else it forms the cluster with
     *     the others); either way, a member whose data directory is not empty starts from what it
     *     holds
     */
    List<String> prepare(MemberSlot member, List<MemberSlot> members, boolean join)
            throws IOException;

    /** How to drop messages between members; empty where the target has no way (etcd). */
    Optional<LinkFaults> linkFaults();
}
