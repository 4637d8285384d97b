package io.capstan.controller;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code capstan snapshot save}: backups of the cluster's state through a member's admin API;
 * {@code capstan snapshot restore}: a new cluster from one ({@link SnapshotRestoreCommand}).
 */
@Command(
        name = "snapshot",
        description = "Back up the cluster's state, or restore a new cluster from a backup.",
        subcommands = {SnapshotCommand.Save.class, SnapshotRestoreCommand.class})
final class SnapshotCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /**
     * {@code capstan snapshot save FILE}: streams {@code GET /v1/snapshot} into a temporary file
     * next to FILE, checks the SHA-256 the stream ends with against everything before it, syncs it
     * to disk and renames it to FILE in one step, so FILE is either the whole verified backup or
     * untouched. The file is etcd's layout (the export, then its 32-byte SHA-256), as {@code
     * etcdctl snapshot save} writes it. Exit codes: 0 saved, 1 refused, unreachable or corrupt
     * (nothing written), 2 usage.
     */
    @Command(
            name = "save",
            description = "Save a member's snapshot to FILE, verifying its SHA-256.")
    static final class Save implements Callable<Integer> {
        static final int CHECKSUM_BYTES = 32;
        private static final int BUFFER_BYTES = 64 * 1024;

        @Mixin AdminOptions options;

        @Parameters(
                paramLabel = "FILE",
                description = "Where to write the snapshot; replaced if it exists.")
        Path file;

        @Override
        public Integer call() {
            Path target = file.toAbsolutePath();
            if (Files.isDirectory(target) || !Files.isDirectory(target.getParent())) {
                throw options.usage("FILE must be a file in an existing directory: " + file);
            }
            AdminClient client = options.client();
            try {
                HttpResponse<InputStream> response = client.stream("/v1/snapshot");
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        return options.refused(
                                AdminClient.Reply.of(
                                        response.uri(),
                                        response.statusCode(),
                                        body.readNBytes(64 << 10)));
                    }
                    return save(response, body, target);
                }
            } catch (IOException e) {
                return options.failed(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return options.failed("interrupted");
            }
        }

        private int save(HttpResponse<InputStream> response, InputStream body, Path target)
                throws IOException {
            Path temp =
                    Files.createTempFile(
                            target.getParent(), "." + target.getFileName() + ".", ".part");
            try {
                Received received = receive(body, temp);
                long expected =
                        response.headers()
                                .firstValueAsLong("Content-Length")
                                .orElse(received.bytes());
                if (received.bytes() != expected || received.bytes() < CHECKSUM_BYTES) {
                    return options.failed(
                            "the snapshot ended after "
                                    + received.bytes()
                                    + " of "
                                    + expected
                                    + " bytes; nothing was written to "
                                    + file);
                }
                if (!MessageDigest.isEqual(received.computed(), received.trailer())) {
                    return options.failed(
                            "the snapshot's SHA-256 does not match its content; nothing was written to "
                                    + file);
                }
                Files.move(
                        temp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                syncDirectory(target.getParent());
                report(response, received, target);
                return ExitCodes.OK;
            } finally {
                Files.deleteIfExists(temp);
            }
        }

        /**
         * Copies the whole body into {@code temp} and syncs it, hashing all but its last {@value
         * #CHECKSUM_BYTES} bytes, which are the sender's checksum.
         */
        private static Received receive(InputStream body, Path temp) throws IOException {
            MessageDigest sha256 = sha256();
            byte[] buffer = new byte[BUFFER_BYTES + CHECKSUM_BYTES];
            int held = 0; // bytes at the start of buffer not hashed yet: possibly the trailer
            long total = 0;
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE);
                    OutputStream out = Channels.newOutputStream(channel)) {
                int n;
                while ((n = body.read(buffer, held, buffer.length - held)) >= 0) {
                    out.write(buffer, held, n);
                    total += n;
                    held += n;
                    if (held > CHECKSUM_BYTES) {
                        int hash = held - CHECKSUM_BYTES;
                        sha256.update(buffer, 0, hash);
                        System.arraycopy(buffer, hash, buffer, 0, CHECKSUM_BYTES);
                        held = CHECKSUM_BYTES;
                    }
                }
                out.flush();
                channel.force(true);
            }
            return new Received(total, sha256.digest(), Arrays.copyOf(buffer, held));
        }

        private void report(HttpResponse<InputStream> response, Received received, Path target) {
            String revision =
                    response.headers().firstValue("X-Capstan-Snapshot-Revision").orElse("?");
            String index = response.headers().firstValue("X-Capstan-Snapshot-Index").orElse("?");
            String sha = HexFormat.of().formatHex(received.trailer());
            if (options.json) {
                Map<String, Object> saved = new LinkedHashMap<>();
                saved.put("file", target.toString());
                saved.put("bytes", received.bytes());
                saved.put("sha256", sha);
                saved.put("revision", revision.equals("?") ? null : Long.parseLong(revision));
                saved.put("log_index", index.equals("?") ? null : Long.parseLong(index));
                options.printJson(saved);
            } else {
                options.out()
                        .println(
                                "saved snapshot at revision "
                                        + revision
                                        + " (log index "
                                        + index
                                        + ", "
                                        + received.bytes()
                                        + " bytes, sha256 "
                                        + sha
                                        + ") to "
                                        + target);
            }
        }

        static void syncDirectory(Path dir) {
            // Makes the rename durable; some file systems cannot sync a directory, which is no
            // worse than before.
            try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                channel.force(true);
            } catch (IOException e) {
                // The file itself is synced; only the rename may be lost in a crash.
            }
        }

        private static MessageDigest sha256() {
            try {
                return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java platform provides SHA-256", e);
            }
        }

        /** What arrived: its length, the SHA-256 of all but its last 32 bytes, and those bytes. */
        private record Received(long bytes, byte[] computed, byte[] trailer) {}
    }
}
