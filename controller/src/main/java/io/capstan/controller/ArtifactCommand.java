package io.capstan.controller;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code capstan artifact add|list|get|rm}: artifacts through a member's API. {@code add} registers
 * a URL with its digest, or uploads a file with tus (in chunks, each with its SHA-256); {@code get}
 * saves an artifact's bytes after checking their digest; on a terminal, transfers show a progress
 * bar on stderr. Exit codes: 0 done, 1 refused, unreachable or damaged, 2 usage.
 */
@Command(
        name = "artifact",
        description = "Register, upload, list, download or delete artifacts.",
        subcommands = {
            ArtifactCommand.Add.class,
            ArtifactCommand.ListCommand.class,
            ArtifactCommand.Get.class,
            ArtifactCommand.Remove.class
        })
final class ArtifactCommand implements Runnable {
    static final String ARTIFACTS = "/v1/artifacts";
    static final String UPLOADS = "/v1/uploads";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_BYTES = 8 << 20;
    private static final Duration POLL = Duration.ofMillis(500);

    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "a subcommand is required");
    }

    static String digestOption(AdminOptions options, String digest) {
        if (digest == null || !digest.matches("sha256:[0-9a-f]{64}")) {
            throw options.usage(
                    "DIGEST must be sha256: and 64 lower-case hex digits, got '" + digest + "'");
        }
        return digest;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
    }

    static void printArtifact(JsonNode a, java.io.PrintWriter out) {
        out.println(
                a.path("digest").asText()
                        + " "
                        + a.path("state").asText()
                        + ", "
                        + a.path("size").asLong()
                        + " bytes, held by "
                        + join(a.path("holders"))
                        + ", referenced by "
                        + join(a.path("references"))
                        + (a.has("failure") ? ", failed: " + a.path("failure").asText() : ""));
    }

    private static String join(JsonNode list) {
        List<String> items = new ArrayList<>();
        list.forEach(item -> items.add(item.asText()));
        return items.isEmpty() ? "none" : String.join(",", items);
    }

    /**
     * {@code capstan artifact add SOURCE}: an http(s) URL is registered with {@code --digest}; a
     * file is uploaded with tus to one member, which records it.
     */
    @Command(
            name = "add",
            description = "Register an artifact by URL and digest, or upload a file.")
    static final class Add implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(
                paramLabel = "SOURCE",
                description = "An http(s) URL to fetch from, or a file to upload.")
        String source;

        @Option(
                names = "--digest",
                paramLabel = "DIGEST",
                description = "sha256:<hex> of the bytes; required for a URL, checked for a file.")
        String digest;

        @Option(
                names = "--ref",
                paramLabel = "NAME",
                description =
                        "A reference (a key or name that uses it); repeatable for a URL, once for a file.")
        List<String> references = new ArrayList<>();

        @Option(names = "--media-type", paramLabel = "TYPE", description = "The bytes' media type.")
        String mediaType = "";

        @Option(
                names = "--wait",
                description = "For a URL: wait until a member holds it (or its fetch failed).")
        boolean await;

        @Override
        public Integer call() {
            try {
                if (source.startsWith("http://") || source.startsWith("https://")) {
                    return register();
                }
                Path file = Path.of(source);
                if (!Files.isRegularFile(file)) {
                    throw options.usage(
                            "SOURCE must be an http(s) URL or an existing file: " + source);
                }
                return upload(file);
            } catch (IOException e) {
                return options.failed(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return options.failed("interrupted");
            }
        }

        private int register() throws IOException, InterruptedException {
            ObjectNode body =
                    JSON.createObjectNode()
                            .put("url", source)
                            .put("digest", digestOption(options, digest))
                            .put("media_type", mediaType);
            references.forEach(body.putArray("references")::add);
            AdminClient client = options.client();
            AdminClient.Reply reply = client.call("POST", ARTIFACTS, Optional.of(body.toString()));
            if (!reply.ok() || !await) {
                return options.answered(reply, ArtifactCommand::printArtifact);
            }
            Progress bar = Progress.onTerminal("fetching");
            while (true) {
                JsonNode artifact =
                        find(
                                client.callAt(reply.endpoint(), "GET", ARTIFACTS, Optional.empty()),
                                digest);
                String state = artifact == null ? "" : artifact.path("state").asText();
                bar.show(
                        artifact == null ? 0 : artifact.path("progress").path("received").asLong(),
                        artifact == null ? 0 : artifact.path("size").asLong());
                if (state.equals("ready") || state.equals("failed") || artifact == null) {
                    bar.end();
                    if (artifact == null) {
                        return options.failed("artifact " + digest + " is no longer registered");
                    }
                    if (options.json) {
                        options.printJson(artifact);
                    } else {
                        printArtifact(artifact, options.out());
                    }
                    return state.equals("ready") ? ExitCodes.OK : ExitCodes.FAILED;
                }
                Thread.sleep(POLL.toMillis());
            }
        }

        private static JsonNode find(AdminClient.Reply list, String digest) {
            for (JsonNode a : list.json().path("artifacts")) {
                if (a.path("digest").asText().equals(digest)) {
                    return a;
                }
            }
            return null;
        }

        private int upload(Path file) throws IOException, InterruptedException {
            if (references.size() > 1) {
                throw options.usage("an upload takes at most one --ref");
            }
            long length = Files.size(file);
            String actual = hash(file);
            if (digest != null && !digestOption(options, digest).equals(actual)) {
                return options.failed(
                        file
                                + " has digest "
                                + actual
                                + ", not "
                                + digest
                                + "; nothing was uploaded");
            }
            StringBuilder metadata =
                    new StringBuilder("filename ")
                            .append(base64(file.getFileName().toString()))
                            .append(",digest ")
                            .append(base64(actual));
            if (!mediaType.isEmpty()) {
                metadata.append(",filetype ").append(base64(mediaType));
            }
            if (!references.isEmpty()) {
                metadata.append(",reference ").append(base64(references.get(0)));
            }
            AdminClient client = options.client();
            AdminClient.Reply created =
                    client.send(
                            Optional.empty(),
                            "POST",
                            UPLOADS,
                            Map.of(
                                    "Tus-Resumable",
                                    "1.0.0",
                                    "Upload-Length",
                                    Long.toString(length),
                                    "Upload-Metadata",
                                    metadata.toString()),
                            HttpRequest.BodyPublishers.noBody());
            if (created.status() != 201) {
                return options.refused(created);
            }
            Optional<URI> member = Optional.of(created.endpoint());
            String location = created.headers().getOrDefault("location", "");
            Progress bar = Progress.onTerminal("uploading");
            AdminClient.Reply last = created;
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                ByteBuffer buffer =
                        ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(1, length)));
                for (long offset = 0; offset < length; ) {
                    buffer.clear();
                    int n = channel.read(buffer, offset);
                    byte[] chunk = new byte[n];
                    buffer.flip().get(chunk);
                    String checksum =
                            "sha256 " + Base64.getEncoder().encodeToString(sha256().digest(chunk));
                    last =
                            client.send(
                                    member,
                                    "PATCH",
                                    location,
                                    Map.of(
                                            "Tus-Resumable",
                                            "1.0.0",
                                            "Upload-Offset",
                                            Long.toString(offset),
                                            "Content-Type",
                                            "application/offset+octet-stream",
                                            "Upload-Checksum",
                                            checksum),
                                    HttpRequest.BodyPublishers.ofByteArray(chunk));
                    if (last.status() != 204) {
                        bar.end();
                        return options.refused(last);
                    }
                    offset += n;
                    bar.show(offset, length);
                }
            }
            bar.end();
            String stored = last.headers().getOrDefault("capstan-artifact-digest", actual);
            if (options.json) {
                options.printJson(
                        JSON.createObjectNode()
                                .put("digest", stored)
                                .put("size", length)
                                .put("upload", location));
            } else {
                options.out().println("uploaded " + file + " (" + length + " bytes) as " + stored);
            }
            return ExitCodes.OK;
        }

        private static String base64(String text) {
            return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        }

        private static String hash(Path file) throws IOException {
            MessageDigest sha = sha256();
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                    sha.update(buffer, 0, n);
                }
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        }
    }

    /** {@code capstan artifact list}: every artifact, its state and who holds it. */
    @Command(
            name = "list",
            description = "List the artifacts with their state, holders and references.")
    static final class ListCommand implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Override
        public Integer call() {
            return options.exchange(
                    "GET",
                    ARTIFACTS,
                    Optional.empty(),
                    (answer, out) -> {
                        TextTable table =
                                new TextTable(
                                        "DIGEST",
                                        "STATE",
                                        "SIZE",
                                        "HOLDERS",
                                        "REFERENCES",
                                        "CREATED");
                        for (JsonNode a : answer.path("artifacts")) {
                            table.row(
                                    a.path("digest").asText(),
                                    a.path("state").asText(),
                                    a.path("size").asText(),
                                    join(a.path("holders")),
                                    join(a.path("references")),
                                    a.path("created").asText());
                        }
                        table.print(out);
                    });
        }
    }

    /**
     * {@code capstan artifact get DIGEST -o FILE}: streams the bytes into a temporary file next to
     * FILE, checks their SHA-256 against DIGEST, syncs and renames, so FILE is either the whole
     * verified artifact or untouched.
     */
    @Command(name = "get", description = "Save an artifact's bytes to FILE, verifying its digest.")
    static final class Get implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(paramLabel = "DIGEST", description = "sha256:<hex> of the artifact.")
        String digest;

        @Option(
                names = {"-o", "--output"},
                paramLabel = "FILE",
                required = true,
                description = "Where to write it; replaced if it exists.")
        Path file;

        @Override
        public Integer call() {
            digestOption(options, digest);
            Path target = file.toAbsolutePath();
            if (Files.isDirectory(target) || !Files.isDirectory(target.getParent())) {
                throw options.usage("FILE must be a file in an existing directory: " + file);
            }
            try {
                HttpResponse<InputStream> response =
                        options.client().stream(
                                ARTIFACTS
                                        + "/"
                                        + URLEncoder.encode(digest, StandardCharsets.UTF_8)
                                                .replace("%3A", ":"));
                try (InputStream body = response.body()) {
                    if (response.statusCode() != 200) {
                        return options.refused(
                                AdminClient.Reply.of(
                                        response.uri(),
                                        response.statusCode(),
                                        body.readNBytes(64 << 10)));
                    }
                    long size = response.headers().firstValueAsLong("Content-Length").orElse(0);
                    return save(body, size, target);
                }
            } catch (IOException e) {
                return options.failed(e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return options.failed("interrupted");
            }
        }

        private int save(InputStream body, long size, Path target) throws IOException {
            Path temp =
                    Files.createTempFile(
                            target.getParent(), "." + target.getFileName() + ".", ".part");
            Progress bar = Progress.onTerminal("downloading");
            try {
                MessageDigest sha = sha256();
                long total = 0;
                try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE);
                        OutputStream out = Channels.newOutputStream(channel)) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                        out.write(buffer, 0, n);
                        sha.update(buffer, 0, n);
                        total += n;
                        bar.show(total, size);
                    }
                    out.flush();
                    channel.force(true);
                }
                bar.end();
                String actual = "sha256:" + HexFormat.of().formatHex(sha.digest());
                if (!actual.equals(digest)) {
                    return options.failed(
                            "the bytes received have digest "
                                    + actual
                                    + ", not "
                                    + digest
                                    + "; nothing was written to "
                                    + file);
                }
                Files.move(
                        temp,
                        target,
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
                SnapshotCommand.Save.syncDirectory(target.getParent());
                if (options.json) {
                    options.printJson(
                            JSON.createObjectNode()
                                    .put("file", target.toString())
                                    .put("bytes", total)
                                    .put("digest", digest));
                } else {
                    options.out()
                            .println("saved " + digest + " (" + total + " bytes) to " + target);
                }
                return ExitCodes.OK;
            } finally {
                Files.deleteIfExists(temp);
            }
        }
    }

    /**
     * {@code capstan artifact rm DIGEST}: deletes it (refused while it has references); with {@code
     * --ref NAME} drops those references instead.
     */
    @Command(name = "rm", description = "Delete an artifact, or drop references to it with --ref.")
    static final class Remove implements Callable<Integer> {
        @Mixin AdminOptions options;

        @Parameters(paramLabel = "DIGEST", description = "sha256:<hex> of the artifact.")
        String digest;

        @Option(
                names = "--ref",
                paramLabel = "NAME",
                description = "Drop this reference only; repeatable.")
        List<String> references = new ArrayList<>();

        @Override
        public Integer call() {
            StringBuilder path =
                    new StringBuilder(ARTIFACTS).append('/').append(digestOption(options, digest));
            for (int i = 0; i < references.size(); i++) {
                path.append(i == 0 ? '?' : '&')
                        .append("reference=")
                        .append(URLEncoder.encode(references.get(i), StandardCharsets.UTF_8));
            }
            return options.exchange(
                    "DELETE",
                    path.toString(),
                    Optional.empty(),
                    (answer, out) -> {
                        if (references.isEmpty()) {
                            out.println("deleted " + answer.path("digest").asText());
                        } else {
                            printArtifact(answer, out);
                        }
                    });
        }
    }

    /**
     * A progress bar on stderr, drawn only when stderr is a terminal (a console is attached):
     * scripts and pipes get none. Used by the one command thread.
     */
    static final class Progress {
        private static final int WIDTH = 30;
        private final String what;
        private final PrintStream err;
        private long lastDrawn = -1;

        private Progress(String what, PrintStream err) {
            this.what = what;
            this.err = err;
        }

        static Progress onTerminal(String what) {
            return new Progress(what, System.console() != null ? System.err : null);
        }

        void show(long done, long total) {
            if (err == null || done == lastDrawn) {
                return;
            }
            lastDrawn = done;
            if (total <= 0) {
                err.printf(Locale.ROOT, "\r%s %.1f MiB", what, done / 1048576.0);
                return;
            }
            int filled = (int) Math.min(WIDTH, done * WIDTH / total);
            err.printf(
                    Locale.ROOT,
                    "\r%s [%s%s] %3d%% %.1f/%.1f MiB",
                    what,
                    "#".repeat(filled),
                    ".".repeat(WIDTH - filled),
                    done * 100 / total,
                    done / 1048576.0,
                    total / 1048576.0);
        }

        void end() {
            if (err != null && lastDrawn >= 0) {
                err.println();
            }
        }
    }
}
