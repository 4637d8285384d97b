package io.capstan.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Capstan members started as {@code scripts/local-cluster.sh} starts them: {@code scripts/capstan
 * serve} (the built jar with {@code conf/jvm.options}) with a generated configuration, the web
 * transport between members and a shared cluster secret. Member n's web port is 27480+n, its etcd
 * API port 27580+n (and its unused Raft gRPC port 27680+n, so that it can never meet another
 * cluster's). Members run with {@code capstan.transport.fault-injection = on}, which {@link
 * AdminLinkFaults} uses to drop messages between them.
 */
final class CapstanTarget implements Target {
    private final Path root;
    private final String secret;
    private final LinkFaults links = new AdminLinkFaults(CapstanTarget::webPort);

    /**
     * @param root the project's checkout (its {@code scripts/capstan} launches members)
     * @param secret the cluster secret every member is given
     */
    CapstanTarget(Path root, String secret) {
        this.root = root;
        this.secret = secret;
    }

    @Override
    public String name() {
        return "capstan";
    }

    @Override
    public int clientPort(MemberSlot member) {
        return 27580 + member.index();
    }

    private static int webPort(MemberSlot member) {
        return 27480 + member.index();
    }

    @Override
    public String peerUrl(MemberSlot member) {
        return "http://" + MemberSlot.HOST + ":" + webPort(member);
    }

    @Override
    public Optional<LinkFaults> linkFaults() {
        return Optional.of(links);
    }

    @Override
    public List<String> prepare(MemberSlot member, List<MemberSlot> members, boolean join)
            throws IOException {
        Path secretFile = member.dir().resolve("cluster.secret");
        if (!Files.exists(secretFile)) {
            Files.createFile(
                    secretFile,
                    PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rw-------")));
            Files.writeString(secretFile, secret);
        }
        Path config = member.dir().resolve("capstan.conf");
        String peers =
                members.stream()
                        .map(m -> "\"" + m.name() + "=" + MemberSlot.HOST + ":" + webPort(m) + "\"")
                        .collect(Collectors.joining(", "));
        Files.writeString(
                config,
                """
                # Written by the fault harness for one run.
                capstan {
                  node { id = "%s", data-dir = "%s", host = "%s" }
                  web.port = %d
                  api.port = %d
                  raft {
                    peers = [%s]
                    secret-file = "%s"
                    grpc-port = %d
                    initial-cluster-state = "%s"
                  }
                  transport.fault-injection = on
                }
                """
                        .formatted(
                                member.name(),
                                member.dataDir(),
                                MemberSlot.HOST,
                                webPort(member),
                                clientPort(member),
                                peers,
                                secretFile,
                                27680 + member.index(),
                                join ? "existing" : "new"));
        return List.of(
                root.resolve("scripts/capstan").toString(), "serve", "--config", config.toString());
    }
}
