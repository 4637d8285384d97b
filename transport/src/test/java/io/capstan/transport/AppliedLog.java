package io.capstan.transport;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;

/**
 * A tiny state machine for transport tests: it keeps every applied write, whole, and can put them
 * all in a snapshot (one file: a count, then each write's length and bytes). A read of {@code
 * "count"} answers how many writes were applied.
 *
 * <p>Ratis applies and snapshots on its own threads; tests read from others, so the state is
 * guarded by this object's monitor and handed out as copies.
 */
final class AppliedLog extends BaseStateMachine {

    static final Message COUNT = Message.valueOf("count");
    private static final int DESCRIBED_PREFIX_BYTES = 32;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final List<ByteString> applied = new ArrayList<>();
    private long loadedSnapshotIndex = -1;

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
            throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
    }

    /**
     * Ratis pauses the machine before it installs a snapshot from the leader, then reinitializes
     * it.
     */
    @Override
    public void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    @Override
    public void reinitialize() throws IOException {
        getLifeCycle().startAndTransition(this::loadLatestSnapshot, IOException.class);
    }

    private void loadLatestSnapshot() throws IOException {
        SingleFileSnapshotInfo snapshot = storage.loadLatestSnapshot();
        if (snapshot == null) {
            return;
        }
        File file = snapshot.getFile().getPath().toFile();
        MD5FileUtil.verifySavedMD5(file, snapshot.getFile().getFileDigest());
        List<ByteString> loaded = new ArrayList<>();
        try (DataInputStream in =
                new DataInputStream(new BufferedInputStream(Files.newInputStream(file.toPath())))) {
            int count = in.readInt();
            for (int i = 0; i < count; i++) {
                byte[] data = new byte[in.readInt()];
                in.readFully(data);
                loaded.add(ByteString.copyFrom(data));
            }
        }
        synchronized (this) {
            applied.clear();
            applied.addAll(loaded);
            loadedSnapshotIndex = snapshot.getIndex();
            updateLastAppliedTermIndex(snapshot.getTermIndex());
        }
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public long takeSnapshot() throws IOException {
        List<ByteString> state;
        TermIndex last;
        synchronized (this) {
            state = List.copyOf(applied);
            last = getLastAppliedTermIndex();
        }
        if (last == null || last.getIndex() < 0) {
            return -1;
        }
        File file = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        try (DataOutputStream out =
                new DataOutputStream(
                        new BufferedOutputStream(Files.newOutputStream(file.toPath())))) {
            out.writeInt(state.size());
            for (ByteString data : state) {
                out.writeInt(data.size());
                data.writeTo(out);
            }
        }
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
        storage.updateLatestSnapshot(
                new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), last));
        return last.getIndex();
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long count;
        synchronized (this) {
            updateLastAppliedTermIndex(TermIndex.valueOf(entry));
            applied.add(entry.getStateMachineLogEntry().getLogData());
            count = applied.size();
        }
        return CompletableFuture.completedFuture(Message.valueOf(Long.toString(count)));
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        if (!request.getContent().equals(COUNT.getContent())) {
            return CompletableFuture.failedFuture(
                    new IllegalArgumentException(
                            "unknown query: "
                                    + request.getContent().toString(StandardCharsets.UTF_8)));
        }
        return CompletableFuture.completedFuture(Message.valueOf(Long.toString(count())));
    }

    /** The applied writes, short ones as text, long ones by size and first bytes. */
    synchronized List<String> applied() {
        List<String> described = new ArrayList<>(applied.size());
        for (ByteString data : applied) {
            described.add(
                    data.size() <= DESCRIBED_PREFIX_BYTES
                            ? data.toStringUtf8()
                            : data.size()
                                    + " bytes starting "
                                    + data.substring(0, DESCRIBED_PREFIX_BYTES).toStringUtf8());
        }
        return described;
    }

    synchronized int count() {
        return applied.size();
    }

    synchronized long appliedBytes() {
        return applied.stream().mapToLong(ByteString::size).sum();
    }

    /** The log index of the snapshot this machine last loaded, -1 if none. */
    synchronized long loadedSnapshotIndex() {
        return loadedSnapshotIndex;
    }
}
