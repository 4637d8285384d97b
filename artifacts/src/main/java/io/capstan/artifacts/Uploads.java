package io.capstan.artifacts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This member's tus uploads, each an {@link Upload} with two files in the uploads directory: its
 * bytes ({@code <id>.part}) and its record ({@code <id>.json}: length, metadata, the offset of the
 * last durable byte, and once finished the digest). A record is written whole (temporary file,
 * fsync, rename, directory fsync) after the bytes it counts were synced, so after a crash the
 * record never claims a byte the disk lost; bytes past it are cut off at start.
 *
 * <p>Threading: any thread. The map of uploads is concurrent; creating one past the limit is
 * refused under this object's lock, which also serialises record writes of different uploads'
 * owners only for the directory sync. An upload's fields change only under its ownership.
 */
final class Uploads {
    private static final Logger LOG = LoggerFactory.getLogger(Uploads.class);
    static final String DATA_SUFFIX = ".part";
    static final String RECORD_SUFFIX = ".json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Refused: as many uploads as allowed are open. */
    static final class TooMany extends Exception {
        private static final long serialVersionUID = 1L;

        TooMany(String message) {
            super(message);
        }
    }

    private final Path dir;
    private final UploadSettings settings;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Upload> uploads = new ConcurrentHashMap<>();

    Uploads(Path dir, UploadSettings settings, LongSupplier clock) {
        this.dir = dir;
        this.settings = settings;
        this.clock = clock;
    }

    /**
     * Loads the uploads a previous run left, cutting each one's bytes back to its last durable
     * byte, and deletes files that belong to no readable record.
     */
    void load() throws IOException {
        Files.createDirectories(dir);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(RECORD_SUFFIX)) {
                    load(file, name.substring(0, name.length() - RECORD_SUFFIX.length()));
                }
            }
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String id = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
                if (!uploads.containsKey(id)) {
                    Files.deleteIfExists(file);
                }
            }
        }
    }

    private void load(Path record, String id) {
        try {
            JsonNode json = JSON.readTree(Files.readAllBytes(record));
            Map<String, String> metadata = new LinkedHashMap<>();
            json.path("metadata")
                    .fields()
                    .forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
            Upload upload =
                    new Upload(
                            id,
                            json.path("length").asLong(),
                            metadata,
                            json.path("raw_metadata").asText(""),
                            json.path("created").asLong(),
                            dataOf(id));
            upload.committed(json.path("offset").asLong(), json.path("touched").asLong());
            if (json.hasNonNull("digest")) {
                upload.stored(Digest.parse(json.path("digest").asText()));
            }
            if (json.path("registered").asBoolean()) {
                upload.recorded();
            }
            if (upload.digest().isEmpty()) {
                cutToOffset(upload);
            }
            uploads.put(id, upload);
        } catch (IOException | RuntimeException e) {
            LOG.warn(
                    "dropping upload {}: its record {} cannot be read: {}",
                    id,
                    record,
                    e.toString());
        }
    }

    private static void cutToOffset(Upload upload) throws IOException {
        try (FileChannel channel =
                FileChannel.open(
                        upload.data(), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (channel.size() > upload.offset()) {
                channel.truncate(upload.offset());
                channel.force(true);
            } else if (channel.size() < upload.offset()) {
                throw new IOException(
                        "its bytes end at "
                                + channel.size()
                                + ", before its offset "
                                + upload.offset());
            }
        }
    }

    /**
     * A new upload of {@code length} bytes, recorded on disk.
     *
     * @throws TooMany when {@code uploads.max-open} unfinished uploads exist
     */
    Upload create(long length, Map<String, String> metadata, String rawMetadata)
            throws IOException, TooMany {
        synchronized (this) {
            long open = uploads.values().stream().filter(u -> !u.done()).count();
            if (open >= settings.maxOpen()) {
                throw new TooMany(
                        "this member has "
                                + open
                                + " unfinished uploads, the limit "
                                + "(capstan.artifacts.uploads.max-open); finish or terminate one, or wait for it to expire");
            }
            byte[] raw = new byte[16];
            random.nextBytes(raw);
            String id = HexFormat.of().formatHex(raw);
            Upload upload =
                    new Upload(id, length, metadata, rawMetadata, clock.getAsLong(), dataOf(id));
            Files.createFile(upload.data());
            save(upload);
            uploads.put(id, upload);
            return upload;
        }
    }

    Optional<Upload> get(String id) {
        return Optional.ofNullable(uploads.get(id));
    }

    List<Upload> all() {
        return List.copyOf(uploads.values());
    }

    /** Unfinished uploads. */
    long unfinished() {
        return uploads.values().stream().filter(u -> !u.done()).count();
    }

    /** When {@code upload} expires: {@code expire-after} after it was last touched. */
    long expiresUnixMs(Upload upload) {
        return upload.touchedUnixMs() + settings.expireAfter().toMillis();
    }

    /** The owner's: writes the upload's record whole. */
    void save(Upload upload) throws IOException {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("length", upload.length());
        json.put("offset", upload.offset());
        json.put("metadata", upload.metadata());
        json.put("raw_metadata", upload.rawMetadata());
        json.put("created", upload.createdUnixMs());
        json.put("touched", upload.touchedUnixMs());
        json.put("digest", upload.digest().map(Digest::toString).orElse(null));
        json.put("registered", upload.registered());
        Path record = dir.resolve(upload.id() + RECORD_SUFFIX);
        Path temp = dir.resolve(upload.id() + RECORD_SUFFIX + ".tmp");
        try (FileChannel channel =
                FileChannel.open(
                        temp,
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap(JSON.writeValueAsBytes(json)));
            channel.force(true);
        }
        Files.move(
                temp, record, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory();
    }

    /** The owner's: forgets the upload and deletes its files. */
    void delete(Upload upload) throws IOException {
        uploads.remove(upload.id(), upload);
        Files.deleteIfExists(dir.resolve(upload.id() + RECORD_SUFFIX));
        Files.deleteIfExists(upload.data());
        syncDirectory();
    }

    /**
     * Deletes the uploads not touched within {@code expire-after}; an owned one waits for the next
     * pass.
     */
    int expire() {
        long now = clock.getAsLong();
        int expired = 0;
        for (Upload upload : uploads.values()) {
            if (now > expiresUnixMs(upload) && upload.tryOwn()) {
                try {
                    delete(upload);
                    expired++;
                    LOG.info("upload {} expired", upload.id());
                } catch (IOException e) {
                    LOG.warn("cannot delete expired upload {}: {}", upload.id(), e.toString());
                } finally {
                    upload.release();
                }
            }
        }
        return expired;
    }

    private Path dataOf(String id) {
        return dir.resolve(id + DATA_SUFFIX);
    }

    private void syncDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
