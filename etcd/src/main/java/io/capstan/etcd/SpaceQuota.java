package io.capstan.etcd;

import io.capstan.raft.AlarmCommands;
import io.capstan.raft.KeyspaceNode;
import io.capstan.raft.ReadConsistency;
import io.capstan.raft.proto.AlarmChangeRequest;
import io.capstan.raft.proto.AlarmListRequest;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.AlarmType;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Query;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * etcd's space quota and NOSPACE alarm, measured where Capstan keeps its data: the free space of
 * the file system that holds the member's data directory (etcd measures its database file against
 * {@code --quota-backend-bytes}; Capstan's state lives in memory, the Raft log and snapshots, so
 * what runs out is the disk).
 *
 * <p>A member whose data directory has less free space than {@link SpaceQuotaSettings#minFreeBytes}
 * raises its NOSPACE alarm through the Raft log, so every member lists it and every replica then
 * refuses the writes that add data ({@link AlarmCommands}); it also refuses such a write itself,
 * before proposing it, with etcd's {@code etcdserver: mvcc: database space exceeded}. The reserve
 * left is for what the log must still take while the alarm is raised: the alarm itself, deletes,
 * compactions, lease revokes and expiries, and the snapshots after which Ratis purges the log. The
 * member looks before each proposal that adds data and every {@link
 * SpaceQuotaSettings#checkInterval}, so a disk filled by something else raises the alarm without
 * waiting for a write. As in etcd, the alarm stays raised until an operator disarms it ({@code
 * etcdctl alarm disarm}) once there is room; disarmed while the disk is still short, it is raised
 * again at the next look.
 *
 * <p>Threads: {@link #check} on any thread; the periodic look runs on this quota's own thread
 * between {@link #start} and {@link #close}. At most one raise is in flight at a time ({@link
 * #raising}).
 */
final class SpaceQuota implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SpaceQuota.class);

    private final KeyspaceNode node;
    private final Path dataDir;
    private final SpaceQuotaSettings settings;
    private final AtomicBoolean raising = new AtomicBoolean();

    /** Set once found; a race finds the same store twice, which is harmless. */
    private volatile FileStore store;

    private final ScheduledExecutorService timer;

    SpaceQuota(KeyspaceNode node, Path dataDir, SpaceQuotaSettings settings) {
        this.node = node;
        this.dataDir = dataDir;
        this.settings = settings;
        this.timer =
                settings.enabled()
                        ? Executors.newSingleThreadScheduledExecutor(
                                task -> {
                                    Thread thread = new Thread(task, "capstan-space-quota");
                                    thread.setDaemon(true);
                                    return thread;
                                })
                        : null;
    }

    /**
     * Starts looking every check interval; call once Raft runs. Does nothing when the quota is off.
     */
    void start() {
        if (timer != null) {
            long millis = settings.checkInterval().toMillis();
            timer.scheduleWithFixedDelay(this::look, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Refuses {@code command} with etcd's NOSPACE error, raising this member's alarm, when it adds
     * data and the data directory is short of space.
     *
     * @throws EtcdException {@link EtcdErrors#NO_SPACE}
     */
    void check(Command command) {
        if (settings.enabled() && AlarmCommands.addsData(command) && look()) {
            throw EtcdErrors.NO_SPACE.toException();
        }
    }

    /**
     * Whether the data directory is short of space; when it is, raises the alarm if not yet raised.
     */
    private boolean look() {
        long free;
        try {
            free = fileStore().getUsableSpace();
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot read the free space of {}: {}", dataDir, e.toString());
            return false;
        }
        boolean shortOfSpace = free < settings.minFreeBytes();
        if (shortOfSpace && raising.compareAndSet(false, true)) {
            raise(free)
                    .whenComplete(
                            (ignored, failure) -> {
                                raising.set(false);
                                if (failure != null) {
                                    LOG.warn(
                                            "could not raise the NOSPACE alarm: {}",
                                            failure.toString());
                                }
                            });
        }
        return shortOfSpace;
    }

    /**
     * The file system of the data directory, found once: finding it reads the mount table, while
     * asking it for its free space is one system call.
     */
    private FileStore fileStore() throws IOException {
        FileStore found = store;
        if (found == null) {
            found = Files.getFileStore(existing(dataDir));
            store = found;
        }
        return found;
    }

    private CompletableFuture<Void> raise(long free) {
        long self = node.memberId();
        AlarmMember alarm =
                AlarmMember.newBuilder().setMemberId(self).setAlarm(AlarmType.NOSPACE).build();
        Query list =
                Query.newBuilder()
                        .setAlarmList(AlarmListRequest.newBuilder().setAlarm(AlarmType.NOSPACE))
                        .build();
        return node.query(list, ReadConsistency.SERIALIZABLE)
                .thenCompose(
                        raised -> {
                            if (raised.getAlarmList().getAlarmsList().contains(alarm)) {
                                return CompletableFuture.completedFuture(null);
                            }
                            LOG.warn(
                                    "the data directory {} has {} bytes free, less than capstan.api.nospace.min-free ({}): raising"
                                            + " the NOSPACE alarm; puts, transactions that put and lease grants are refused until it is"
                                            + " disarmed",
                                    dataDir,
                                    free,
                                    settings.minFreeBytes());
                            // Proposed by the member itself, so it carries no caller and needs no
                            // credentials.
                            return node.propose(
                                            Command.newBuilder()
                                                    .setAlarmChange(
                                                            AlarmChangeRequest.newBuilder()
                                                                    .setActivate(true)
                                                                    .setMemberId(self)
                                                                    .setAlarm(AlarmType.NOSPACE))
                                                    .build())
                                    .thenApply(r -> null);
                        });
    }

    /**
     * The directory, or its nearest existing parent (the data directory is made when Raft starts).
     */
    private static Path existing(Path dir) {
        Path at = dir.toAbsolutePath();
        while (at != null && !Files.exists(at)) {
            at = at.getParent();
        }
        return at == null ? dir : at;
    }

    /** Stops looking; idempotent. */
    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
