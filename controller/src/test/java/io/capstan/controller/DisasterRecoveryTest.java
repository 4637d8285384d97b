package io.capstan.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.controller.config.Settings;
import io.capstan.controller.config.SettingsLoader;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Disaster recovery end to end, with real daemons and etcd's own client: a backup taken through
 * etcd's Snapshot stream restores into a new cluster with every key at its revision, and a member
 * whose two peers are gone for good becomes a cluster of its own with {@code capstan recover}.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class DisasterRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ByteSequence PREFIX = bytes("dr/");

    @Test
    void backupRestoresIntoANewClusterWithEveryKeyAtItsRevision(@TempDir Path dir)
            throws Exception {
        Path backup = dir.resolve("backup.db");
        GetResponse before;
        Files.createDirectories(dir.resolve("old"));
        try (DaemonCluster old = DaemonCluster.start(dir.resolve("old"), 3, "web", "");
                Client client = jetcd(old, 0)) {
            write(client);
            before =
                    client.getKVClient()
                            .get(PREFIX, GetOption.builder().isPrefix(true).build())
                            .get(30, TimeUnit.SECONDS);
            try (OutputStream out = Files.newOutputStream(backup)) {
                client.getMaintenanceClient().snapshot(out).get(60, TimeUnit.SECONDS);
            }
        }

        Path fresh = dir.resolve("new");
        Files.createDirectories(fresh);
        try (DaemonCluster restored = DaemonCluster.create(fresh, 3, "web", (i, c) -> c)) {
            for (int n = 1; n <= 3; n++) {
                Result result =
                        run(
                                "snapshot",
                                "restore",
                                backup.toString(),
                                "--config",
                                fresh.resolve("n" + n + ".conf").toString());
                assertEquals(0, result.code(), result.err());
                assertTrue(
                        result.out().contains("revision " + before.getHeader().getRevision()),
                        result.out());
            }
            restored.members().forEach(d -> d.start().orTimeout(60, TimeUnit.SECONDS).join());
            try (Client client = jetcd(restored, 2)) {
                GetResponse after =
                        client.getKVClient()
                                .get(PREFIX, GetOption.builder().isPrefix(true).build())
                                .get(30, TimeUnit.SECONDS);
                assertEquals(describe(before.getKvs()), describe(after.getKvs()));
                assertEquals(before.getHeader().getRevision(), after.getHeader().getRevision());
                long next =
                        client.getKVClient()
                                .put(bytes("dr/after"), bytes("x"))
                                .get(30, TimeUnit.SECONDS)
                                .getHeader()
                                .getRevision();
                assertEquals(
                        before.getHeader().getRevision() + 1,
                        next,
                        "writes go on from the backup's revision");
            }
        }

        Result refused =
                run(
                        "snapshot",
                        "restore",
                        backup.toString(),
                        "--config",
                        fresh.resolve("n1.conf").toString());
        assertEquals(1, refused.code(), "a data directory with Raft state is never overwritten");
        assertTrue(refused.err().contains("not empty"), refused.err());

        Path corrupt = dir.resolve("corrupt.db");
        byte[] bytes = Files.readAllBytes(backup);
        bytes[bytes.length / 2] ^= 1;
        Files.write(corrupt, bytes);
        Result bad =
                run(
                        "snapshot",
                        "restore",
                        corrupt.toString(),
                        "--data-dir",
                        dir.resolve("other").toString(),
                        "--config",
                        fresh.resolve("n1.conf").toString());
        assertEquals(1, bad.code());
        assertTrue(
                bad.err().contains("fails its checksum")
                        || bad.err().contains("not a Capstan backup"),
                bad.err());
        assertTrue(Files.notExists(dir.resolve("other").resolve("raft").resolve("seed.snapshot")));
    }

    @Test
    void memberWhoseQuorumIsGoneRecoversAsAClusterOfItsOwn(@TempDir Path dir) throws Exception {
        GetResponse before;
        try (DaemonCluster cluster = DaemonCluster.start(dir, 3, "web", "");
                Client client = jetcd(cluster, 0)) {
            write(client);
            before =
                    client.getKVClient()
                            .get(PREFIX, GetOption.builder().isPrefix(true).build())
                            .get(30, TimeUnit.SECONDS);
        }
        // All three stop; n2 and n3 never come back.
        Path conf = dir.resolve("n1.conf");
        Result result = run("recover", "--config", conf.toString());
        assertEquals(0, result.code(), result.err());
        assertTrue(
                Files.list(dir.resolve("n1"))
                        .anyMatch(
                                p -> p.getFileName().toString().startsWith("raft.before-recover-")),
                "the old Raft state is kept");

        Settings configured = SettingsLoader.load(Optional.of(conf), Map.of());
        Settings alone =
                SettingsLoader.load(
                        Optional.of(conf),
                        Map.of("CAPSTAN_PEERS", "n1=127.0.0.1:" + configured.web().port()));
        Daemon member = Daemon.create(alone);
        try {
            member.start().get(60, TimeUnit.SECONDS);
            try (Client client =
                    Client.builder().endpoints("http://127.0.0.1:" + alone.api().port()).build()) {
                GetResponse after =
                        client.getKVClient()
                                .get(PREFIX, GetOption.builder().isPrefix(true).build())
                                .get(30, TimeUnit.SECONDS);
                assertEquals(describe(before.getKvs()), describe(after.getKvs()));
                assertServesAlone(client, before.getHeader().getRevision());
            }
        } finally {
            member.stop().get(60, TimeUnit.SECONDS);
        }

        Result nothing =
                run(
                        "recover",
                        "--config",
                        conf.toString(),
                        "--data-dir",
                        dir.resolve("empty").toString());
        assertEquals(1, nothing.code());
        assertTrue(nothing.err().contains("no Raft state"), nothing.err());
    }

    /**
     * A member made a cluster of its own takes a write at the revision after {@code revision}, the
     * last it recovered, and lists itself alone.
     */
    static void assertServesAlone(Client client, long revision) throws Exception {
        long next =
                client.getKVClient()
                        .put(bytes("dr/alone"), bytes("x"))
                        .get(30, TimeUnit.SECONDS)
                        .getHeader()
                        .getRevision();
        assertEquals(revision + 1, next, "writes go on from the recovered revision");
        assertEquals(
                1,
                client.getClusterClient()
                        .listMember()
                        .get(30, TimeUnit.SECONDS)
                        .getMembers()
                        .size());
    }

    /** Puts, overwrites, a delete and a leased key: histories with distinct revisions. */
    private static void write(Client client) throws Exception {
        for (int i = 0; i < 20; i++) {
            client.getKVClient().put(bytes("dr/k" + i), bytes("v" + i)).get(30, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 5; i++) {
            client.getKVClient()
                    .put(bytes("dr/k" + i), bytes("again" + i))
                    .get(30, TimeUnit.SECONDS);
        }
        client.getKVClient().delete(bytes("dr/k19")).get(30, TimeUnit.SECONDS);
        long lease = client.getLeaseClient().grant(3600).get(30, TimeUnit.SECONDS).getID();
        client.getKVClient()
                .put(bytes("dr/leased"), bytes("l"), PutOption.builder().withLeaseId(lease).build())
                .get(30, TimeUnit.SECONDS);
    }

    private static String describe(List<KeyValue> kvs) {
        return kvs.stream()
                .map(
                        kv ->
                                kv.getKey()
                                        + "="
                                        + kv.getValue()
                                        + "@"
                                        + kv.getCreateRevision()
                                        + "/"
                                        + kv.getModRevision()
                                        + "/"
                                        + kv.getVersion()
                                        + "/"
                                        + kv.getLease())
                .collect(Collectors.joining("\n"));
    }

    private static Client jetcd(DaemonCluster cluster, int member) throws InterruptedException {
        cluster.awaitLeader(cluster.members(), WAIT);
        return Client.builder().endpoints("http://127.0.0.1:" + cluster.apiPort(member)).build();
    }

    private record Result(int code, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
