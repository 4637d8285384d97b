package io.capstan.faults;

import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.etcd.api.mvcc.KeyValue;
import io.capstan.faults.check.HistoryChecker;
import io.capstan.faults.history.Event;
import io.capstan.faults.history.HistoryFile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A client of the register keys with one request in flight: linearizable gets, puts,
 * compare-and-sets (a Txn comparing the value, which reads the key when the compare fails) and
 * deletes, each recorded before it is sent and when it ends. Puts and deletes ask for the previous
 * value, so every completed operation tells what it found. After an error it moves to the next
 * member.
 *
 * <p>Threads: runs on its own thread; {@link #stop} from any.
 */
final class KvClient implements Runnable {
    private final String process;
    private final Cluster cluster;
    private final HistoryFile history;
    private final Random random;
    private final List<String> keys;
    private final Duration deadline;

    /**
     * The last value any client saw per key: what a cas expects, so that some succeed. Shared by
     * the clients.
     */
    private final Map<String, String> lastSeen;

    private volatile boolean stopped;
    private int member;
    private int written;
    private long maxRevision;

    KvClient(
            String process,
            Cluster cluster,
            HistoryFile history,
            long seed,
            List<String> keys,
            Duration deadline,
            Map<String, String> lastSeen) {
        this.process = process;
        this.cluster = cluster;
        this.history = history;
        this.random = new Random(seed);
        this.keys = keys;
        this.deadline = deadline;
        this.lastSeen = lastSeen;
        this.member = random.nextInt(cluster.members().size());
    }

    static Map<String, String> sharedLastSeen() {
        return new ConcurrentHashMap<>();
    }

    static List<String> registerKeys(int count) {
        return java.util.stream.IntStream.range(0, count)
                .mapToObj(i -> HistoryChecker.REGISTER_PREFIX + i)
                .toList();
    }

    void stop() {
        stopped = true;
    }

    @Override
    public void run() {
        while (!stopped) {
            String key = keys.get(random.nextInt(keys.size()));
            int dice = random.nextInt(100);
            boolean ok;
            if (dice < 40) {
                ok = get(key);
            } else if (dice < 70) {
                ok = put(key, process + "-" + written++);
            } else if (dice < 92) {
                String expect = lastSeen.getOrDefault(key, "none");
                ok = cas(key, expect, process + "-" + written++);
            } else {
                ok = delete(key);
            }
            if (!ok) {
                member = (member + 1) % cluster.members().size();
                pause(100);
            } else {
                pause(random.nextInt(10));
            }
        }
    }

    private MemberSlot target() {
        return cluster.members().get(member);
    }

    /** A linearizable get, as process {@code process}; returns whether it succeeded. */
    boolean get(String key) {
        history.record(Event.of(process, Event.INVOKE, "get").key(key));
        try {
            RangeResponse r =
                    cluster.kv(target(), deadline)
                            .range(RangeRequest.newBuilder().setKey(Calls.bytes(key)).build());
            Event.Builder ok =
                    Event.of(process, Event.OK, "get")
                            .key(key)
                            .revision(r.getHeader().getRevision());
            if (r.getKvsCount() > 0) {
                KeyValue kv = r.getKvs(0);
                String value = Calls.string(kv.getValue());
                ok.value(value).modRevision(kv.getModRevision());
                lastSeen.put(key, value);
            }
            history.record(ok);
            maxRevision = Math.max(maxRevision, r.getHeader().getRevision());
            return true;
        } catch (RuntimeException e) {
            history.record(Event.of(process, Event.FAIL, "get").key(key).error(Calls.describe(e)));
            return false;
        }
    }

    private boolean put(String key, String value) {
        history.record(Event.of(process, Event.INVOKE, "put").key(key).value(value));
        try {
            PutResponse r =
                    cluster.kv(target(), deadline)
                            .put(
                                    PutRequest.newBuilder()
                                            .setKey(Calls.bytes(key))
                                            .setValue(Calls.bytes(value))
                                            .setPrevKv(true)
                                            .build());
            history.record(
                    Event.of(process, Event.OK, "put")
                            .key(key)
                            .value(value)
                            .prev(r.hasPrevKv() ? Calls.string(r.getPrevKv().getValue()) : null)
                            .revision(r.getHeader().getRevision()));
            return true;
        } catch (RuntimeException e) {
            history.record(
                    Event.of(process, Calls.writeOutcome(e), "put")
                            .key(key)
                            .value(value)
                            .error(Calls.describe(e)));
            return false;
        }
    }

    private boolean cas(String key, String expect, String value) {
        history.record(Event.of(process, Event.INVOKE, "cas").key(key).expect(expect).value(value));
        TxnRequest txn =
                TxnRequest.newBuilder()
                        .addCompare(
                                Compare.newBuilder()
                                        .setKey(Calls.bytes(key))
                                        .setTarget(Compare.CompareTarget.VALUE)
                                        .setResult(Compare.CompareResult.EQUAL)
                                        .setValue(Calls.bytes(expect)))
                        .addSuccess(
                                RequestOp.newBuilder()
                                        .setRequestPut(
                                                PutRequest.newBuilder()
                                                        .setKey(Calls.bytes(key))
                                                        .setValue(Calls.bytes(value))))
                        .addFailure(
                                RequestOp.newBuilder()
                                        .setRequestRange(
                                                RangeRequest.newBuilder().setKey(Calls.bytes(key))))
                        .build();
        try {
            TxnResponse r = cluster.kv(target(), deadline).txn(txn);
            String prev = expect;
            if (!r.getSucceeded()) {
                RangeResponse read = r.getResponses(0).getResponseRange();
                prev = read.getKvsCount() > 0 ? Calls.string(read.getKvs(0).getValue()) : null;
            }
            history.record(
                    Event.of(process, Event.OK, "cas")
                            .key(key)
                            .expect(expect)
                            .value(value)
                            .succeeded(r.getSucceeded())
                            .prev(prev)
                            .revision(r.getHeader().getRevision()));
            return true;
        } catch (RuntimeException e) {
            history.record(
                    Event.of(process, Calls.writeOutcome(e), "cas")
                            .key(key)
                            .expect(expect)
                            .value(value)
                            .error(Calls.describe(e)));
            return false;
        }
    }

    private boolean delete(String key) {
        history.record(Event.of(process, Event.INVOKE, "delete").key(key));
        try {
            DeleteRangeResponse r =
                    cluster.kv(target(), deadline)
                            .deleteRange(
                                    DeleteRangeRequest.newBuilder()
                                            .setKey(Calls.bytes(key))
                                            .setPrevKv(true)
                                            .build());
            history.record(
                    Event.of(process, Event.OK, "delete")
                            .key(key)
                            .prev(
                                    r.getPrevKvsCount() > 0
                                            ? Calls.string(r.getPrevKvs(0).getValue())
                                            : null)
                            .revision(r.getHeader().getRevision()));
            return true;
        } catch (RuntimeException e) {
            history.record(
                    Event.of(process, Calls.writeOutcome(e), "delete")
                            .key(key)
                            .error(Calls.describe(e)));
            return false;
        }
    }

    /** The highest revision a get of this client was answered at. */
    long maxRevision() {
        return maxRevision;
    }

    /**
     * Retries a get of {@code key} on each member in turn until one succeeds or {@code tries} are
     * spent.
     */
    boolean getAnywhere(String key, int tries) {
        for (int i = 0; i < tries; i++) {
            if (get(key)) {
                return true;
            }
            member = (member + 1) % cluster.members().size();
            pause(200);
        }
        return false;
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
