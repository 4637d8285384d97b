package io.capstan.faults;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * What the harness runs as members: Capstan or etcd, every member on {@link Member#HOST} with ports
 * fixed by its index (in 27xxx, which no other script of the project uses). Immutable.
 */
interface Target {
    /** {@code capstan} or {@code etcd}. */
    String name();

    /** The port of {@code member}'s etcd v3 gRPC API. */
    int clientPort(Member member);

    /**
     * Writes what {@code member} needs to start (its configuration) and returns its command line.
     *
     * @param members the members of the cluster, itself included
     */
    List<String> prepare(Member member, List<Member> members) throws IOException;

    /** How to drop messages between members; empty where the target has no way (etcd). */
    Optional<LinkFaults> linkFaults();
}
