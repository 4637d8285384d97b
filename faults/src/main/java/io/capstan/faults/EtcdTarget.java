package io.capstan.faults;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * etcd members (Debian's etcd-server): member n's client port is 27780+n, its peer port 27880+n.
 * etcd has no way to drop messages between members that an unprivileged process can reach (all
 * listen on one loopback address), so it has no {@link LinkFaults}.
 */
final class EtcdTarget implements Target {
    private final Path etcd;

    EtcdTarget(Path etcd) {
        this.etcd = etcd;
    }

    @Override
    public String name() {
        return "etcd";
    }

    @Override
    public int clientPort(MemberSlot member) {
        return 27780 + member.index();
    }

    @Override
    public String peerUrl(MemberSlot member) {
        return "http://" + MemberSlot.HOST + ":" + (27880 + member.index());
    }

    @Override
    public Optional<LinkFaults> linkFaults() {
        return Optional.empty();
    }

    @Override
    public List<String> prepare(MemberSlot member, List<MemberSlot> members, boolean join) {
        String client = "http://" + MemberSlot.HOST + ":" + clientPort(member);
        String initial =
                members.stream()
                        .map(m -> m.name() + "=" + peerUrl(m))
                        .collect(Collectors.joining(","));
        return List.of(
                etcd.toString(),
                "--name",
                member.name(),
                "--data-dir",
                member.dataDir().toString(),
                "--listen-client-urls",
                client,
                "--advertise-client-urls",
                client,
                "--listen-peer-urls",
                peerUrl(member),
                "--initial-advertise-peer-urls",
                peerUrl(member),
                "--initial-cluster",
                initial,
                "--initial-cluster-state",
                join ? "existing" : "new",
                "--initial-cluster-token",
                "faults",
                "--logger",
                "zap");
    }
}
