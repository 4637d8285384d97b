package io.capstan.raft;

import static io.capstan.raft.Ops.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.ByteString;
import io.capstan.raft.proto.AuthDisableRequest;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.Caller;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.Compare;
import io.capstan.raft.proto.DeleteRangeRequest;
import io.capstan.raft.proto.MemberDeleteRequest;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RequestOp;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.TxnRequest;
import io.capstan.raft.proto.UserRevokeRoleRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Replicas of the state machine fed one random command log, in the manner of Kafka's {@code
 * RaftEventSimulationTest}: each replica is a store, its {@link Applier}, a {@link WatchHub} and a
 * leader's {@link LeaseDeadlines}; a seeded random schedule interleaves appending commands (puts,
 * transactions, deletes, leases and their expiry, compaction, auth and member changes), replicas
 * applying the log at their own pace, snapshots written and read back through {@link SnapshotCodec}
 * (as at a restart) or installed from the replica furthest ahead (as Raft does for one that lags),
 * leadership moving, the clock moving, watches created and canceled, and each hub's passes and
 * listener deliveries run one at a time.
 *
 * <p>After every step: replicas that applied the same log index have the same state digest and got
 * the same result; each revision's changes are the same on every replica that applied it; and every
 * watch has reported exactly the matching changes, in order, from its start revision on, with no
 * gap and no duplicate (a prefix of what it owes). When a replica's hub and deliveries go quiet,
 * and at the end, each of its watches has reported all it owes, or ended for a reason that says
 * what it missed.
 *
 * <p>Runs seeds 1 to {@value #FIXED_SEEDS}, or random seeds for {@code capstan.simulation.seconds}
 * seconds when that is set, each for {@code capstan.simulation.steps} steps (default 1500); {@code
 * -Dcapstan.simulation.seed=S} replays one. A failure names its seed.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReplicaSimulationTest {
    private static final int REPLICAS = 3;
    private static final int FIXED_SEEDS = 8;
    private static final List<String> KEYS =
            List.of("a", "b", "c", "d", "e", "f", "p/a", "p/b", "p/c", "p/d", "q", "z");

    @Test
    void replicasAgreeAndEveryWatchIsCompleteAndInOrder() {
        long steps = Long.getLong("capstan.simulation.steps", 1_500);
        Long replay = Long.getLong("capstan.simulation.seed");
        if (replay != null) {
            System.out.println(
                    "replica simulation of seed " + replay + ": " + runSeed(replay, steps));
            return;
        }
        Map<String, Long> seen = new TreeMap<>();
        int runs = 0;
        Long seconds = Long.getLong("capstan.simulation.seconds");
        if (seconds == null) {
            // The build runs fixed seeds, so it fails only when a change breaks one of them;
            // random seeds run when asked for a duration.
            for (long seed = 1; seed <= FIXED_SEEDS; seed++) {
                runSeed(seed, steps).forEach((what, n) -> seen.merge(what, n, Long::sum));
                runs++;
            }
        } else {
            long budget = TimeUnit.SECONDS.toNanos(seconds);
            long start = System.nanoTime();
            Random seeds = new Random();
            do {
                runSeed(seeds.nextLong(), steps)
                        .forEach((what, n) -> seen.merge(what, n, Long::sum));
                runs++;
            } while (System.nanoTime() - start < budget);
        }
        System.out.println(
                "replica simulation: " + runs + " seeds of " + steps + " steps: " + seen);
    }

    /** Runs one seed; what it saw happen, by kind. */
    private static Map<String, Long> runSeed(long seed, long steps) {
        try {
            Simulation simulation = new Simulation(seed);
            simulation.run(steps);
            return simulation.seen;
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(
                    "replica simulation failed with seed "
                            + seed
                            + " (replay: -Dcapstan.simulation.seed="
                            + seed
                            + "): "
                            + e.getMessage(),
                    e);
        }
    }

    /** One seeded run; everything happens on the test's thread. */
    private static final class Simulation {
        private final SplittableRandom random;
        private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
        private final WatchSettings watchSettings;
        private final CommandValidator validator = new CommandValidator(Limits.DEFAULT);
        private final List<Command> log = new ArrayList<>();
        private final Map<Long, String> digestAt = new HashMap<>();
        private final Map<Long, CommandResult> resultAt = new HashMap<>();

        /** Each revision's changes, as the first replica to apply it made them. */
        private final TreeMap<Long, List<Change>> changesAt = new TreeMap<>();

        private final List<Replica> replicas = new ArrayList<>();

        /** What happened, by kind: printed, so a run shows it exercised what it claims to. */
        final Map<String, Long> seen = new TreeMap<>();

        private Replica leader;
        private int values;

        Simulation(long seed) {
            random = new SplittableRandom(seed);
            watchSettings =
                    new WatchSettings(
                            1 + random.nextInt(40),
                            1 + random.nextInt(8),
                            1 + random.nextInt(5),
                            10_000,
                            Duration.ofSeconds(30));
            for (int i = 0; i < REPLICAS; i++) {
                replicas.add(new Replica("r" + i));
            }
            leader = replicas.get(0);
            leader.deadlines.activate(Map.of(), clock.instant());
        }

        void run(long steps) {
            for (long step = 0; step < steps; step++) {
                step();
                checkAfterStep();
            }
            settleAll();
        }

        private void step() {
            int choice = random.nextInt(100);
            if (choice < 25) {
                int count = 1 + random.nextInt(3);
                for (int i = 0; i < count; i++) {
                    log.add(command());
                }
            } else if (choice < 45) {
                pick().applyUpTo(random.nextInt(4));
            } else if (choice < 55) {
                pick().hub.runOnce();
            } else if (choice < 65) {
                pick().deliverSome(1 + random.nextInt(4));
            } else if (choice < 70) {
                clock.advance(Duration.ofMillis(random.nextInt(3_000)));
                expireLeases();
            } else if (choice < 76) {
                createWatch(pick());
            } else if (choice < 79) {
                cancelWatch(pick());
            } else if (choice < 82) {
                pick().restartFromSnapshot();
            } else if (choice < 84) {
                installSnapshot();
            } else if (choice < 86) {
                changeLeader();
            } else if (choice < 90) {
                settle(pick());
            } else {
                pick().hub.runOnce();
                pick().deliverSome(1);
            }
        }

        private void saw(String what) {
            seen.merge(what, 1L, Long::sum);
        }

        private Replica pick() {
            return replicas.get(random.nextInt(replicas.size()));
        }

        /** The replica furthest ahead: what a client would see from the leader's side. */
        private Replica ahead() {
            Replica best = replicas.get(0);
            for (Replica replica : replicas) {
                if (replica.applied > best.applied) {
                    best = replica;
                }
            }
            return best;
        }

        // ---- the command log ----

        private Command command() {
            while (true) {
                Command command = candidate();
                try {
                    validator.validate(command);
                    return command;
                } catch (InvalidCommandException e) {
                    // The API layer refuses it before it reaches the log: draw another.
                }
            }
        }

        private Command candidate() {
            MvccStore tail = ahead().store;
            int choice = random.nextInt(100);
            Command command;
            if (choice < 30) {
                command = Command.newBuilder().setPut(put(tail)).build();
            } else if (choice < 42) {
                command = Command.newBuilder().setDeleteRange(delete()).build();
            } else if (choice < 55) {
                command = Command.newBuilder().setTxn(txn(tail, 0)).build();
            } else if (choice < 63) {
                command =
                        Ops.grant(
                                random.nextInt(3) == 0 ? 1 + random.nextInt(20) : 0,
                                1 + random.nextInt(5));
            } else if (choice < 69) {
                command = Ops.keepAlive(leaseId(tail));
            } else if (choice < 73) {
                command = Ops.revoke(leaseId(tail));
            } else if (choice < 78) {
                long low = Math.max(0, tail.compactRevision());
                command = Ops.compact(low + random.nextInt((int) (tail.revision() - low + 2)));
            } else if (choice < 90) {
                command = authChange(tail.auth());
            } else {
                command = memberChange();
            }
            if (random.nextInt(4) == 0 && !command.hasLeaseExpire()) {
                command = command.toBuilder().setCaller(caller(tail.auth())).build();
            }
            return command;
        }

        private String key() {
            return KEYS.get(random.nextInt(KEYS.size()));
        }

        private PutRequest put(MvccStore tail) {
            PutRequest.Builder put =
                    PutRequest.newBuilder().setKey(bytes(key())).setPrevKv(random.nextBoolean());
            int flavour = random.nextInt(20);
            if (flavour == 0) {
                put.setIgnoreValue(true);
            } else {
                put.setValue(bytes("v" + values++));
            }
            if (flavour == 1) {
                put.setIgnoreLease(true);
            } else if (random.nextInt(3) == 0) {
                put.setLease(leaseId(tail));
            }
            return put.build();
        }

        private DeleteRangeRequest delete() {
            DeleteRangeRequest.Builder delete =
                    DeleteRangeRequest.newBuilder().setPrevKv(random.nextBoolean());
            switch (random.nextInt(4)) {
                case 0 -> delete.setKey(bytes("p/")).setRangeEnd(bytes("p0"));
                case 1 -> delete.setKey(bytes(key())).setRangeEnd(bytes(key()));
                case 2 -> delete.setKey(bytes(key())).setRangeEnd(MvccStore.FROM_KEY);
                default -> delete.setKey(bytes(key()));
            }
            return delete.build();
        }

        private RangeRequest range() {
            return RangeRequest.newBuilder()
                    .setKey(bytes(key()))
                    .setRangeEnd(random.nextBoolean() ? ByteString.EMPTY : bytes("p0"))
                    .build();
        }

        private TxnRequest txn(MvccStore tail, int depth) {
            TxnRequest.Builder txn = TxnRequest.newBuilder();
            for (int i = random.nextInt(3); i > 0; i--) {
                txn.addCompare(compare(tail));
            }
            for (int i = random.nextInt(4); i > 0; i--) {
                txn.addSuccess(requestOp(tail, depth));
            }
            for (int i = random.nextInt(3); i > 0; i--) {
                txn.addFailure(requestOp(tail, depth));
            }
            return txn.build();
        }

        private Compare compare(MvccStore tail) {
            Compare.Builder compare =
                    Compare.newBuilder()
                            .setKey(bytes(key()))
                            .setResult(Compare.CompareResult.forNumber(random.nextInt(4)));
            long number = random.nextInt((int) tail.revision() + 2);
            switch (random.nextInt(5)) {
                case 0 -> compare.setTarget(Compare.CompareTarget.VERSION).setVersion(number % 4);
                case 1 -> compare.setTarget(Compare.CompareTarget.CREATE).setCreateRevision(number);
                case 2 -> compare.setTarget(Compare.CompareTarget.MOD).setModRevision(number);
                case 3 ->
                        compare.setTarget(Compare.CompareTarget.VALUE)
                                .setValue(bytes("v" + random.nextInt(values + 1)));
                default -> compare.setTarget(Compare.CompareTarget.LEASE).setLease(leaseId(tail));
            }
            return compare.build();
        }

        private RequestOp requestOp(MvccStore tail, int depth) {
            return switch (random.nextInt(depth == 0 ? 4 : 3)) {
                case 0 -> Ops.op(put(tail));
                case 1 -> Ops.op(delete());
                case 2 -> Ops.op(range());
                default -> Ops.op(txn(tail, depth + 1));
            };
        }

        /** A lease the furthest replica holds, now and then one it does not. */
        private long leaseId(MvccStore tail) {
            List<Long> ids = tail.leaseIds();
            if (ids.isEmpty() || random.nextInt(8) == 0) {
                return 1 + random.nextInt(20);
            }
            return ids.get(random.nextInt(ids.size()));
        }

        private Command authChange(AuthState auth) {
            String user = "u" + random.nextInt(3);
            String role = "r" + random.nextInt(3);
            return switch (random.nextInt(10)) {
                case 0 -> Ops.userAdd(random.nextBoolean() ? AuthState.ROOT : user);
                case 1 ->
                        Ops.grantRole(
                                random.nextBoolean() ? AuthState.ROOT : user,
                                random.nextBoolean() ? AuthState.ROOT : role);
                case 2 -> Ops.roleAdd(role);
                case 3 ->
                        Ops.grantPermission(
                                role,
                                AuthPermission.Type.forNumber(random.nextInt(3)),
                                key(),
                                random.nextBoolean() ? "" : "p0");
                case 4 ->
                        auth.enabled() && random.nextBoolean()
                                ? Command.newBuilder()
                                        .setAuthDisable(AuthDisableRequest.getDefaultInstance())
                                        .build()
                                : Ops.enableAuth();
                case 5 ->
                        Command.newBuilder()
                                .setUserRevokeRole(
                                        UserRevokeRoleRequest.newBuilder()
                                                .setName(user)
                                                .setRole(role))
                                .build();
                case 6 ->
                        Command.newBuilder()
                                .setRoleRevokePermission(
                                        RoleRevokePermissionRequest.newBuilder()
                                                .setRole(role)
                                                .setKey(bytes(key())))
                                .build();
                case 7 -> Ops.userAdd(user);
                case 8 -> Ops.grantRole(user, role);
                default -> Ops.enableAuth();
            };
        }

        /** Who a client command comes from: a user as its token names it, or a stranger. */
        private Caller caller(AuthState auth) {
            String user = random.nextInt(4) == 0 ? AuthState.ROOT : "u" + random.nextInt(4);
            return auth.user(user).isPresent() && random.nextInt(5) != 0
                    ? Ops.callerOf(auth, user)
                    : Caller.newBuilder().setUser(user).setPasswordRevision(7).build();
        }

        private Command memberChange() {
            long id = 1 + random.nextInt(5);
            if (random.nextInt(3) == 0) {
                return Command.newBuilder()
                        .setMemberDelete(MemberDeleteRequest.newBuilder().setId(id))
                        .build();
            }
            return Command.newBuilder()
                    .setMemberPut(
                            MemberPutRequest.newBuilder()
                                    .setMember(
                                            MemberRecord.newBuilder()
                                                    .setId(id)
                                                    .setName(random.nextBoolean() ? "" : "n" + id)
                                                    .addPeerUrls("http://127.0.0.1:" + (7480 + id))
                                                    .setIsLearner(random.nextBoolean())))
                    .build();
        }

        // ---- leadership and lease expiry ----

        private void expireLeases() {
            List<Long> due =
                    leader.deadlines.due(
                            clock.instant(),
                            CommandValidator.MAX_EXPIRE_IDS,
                            Duration.ofSeconds(1));
            if (!due.isEmpty()) {
                Command expire = Ops.expire(due.toArray(Long[]::new));
                validator.validate(expire);
                log.add(expire);
                saw("lease expiries proposed");
            }
        }

        private void changeLeader() {
            leader.deadlines.deactivate();
            leader = pick();
            leader.activateDeadlines();
        }

        // ---- snapshots ----

        private void installSnapshot() {
            Replica source = ahead();
            Replica target = pick();
            if (target.applied >= source.applied) {
                return;
            }
            MvccStore copy = roundTrip(source.store);
            target.install(copy, source.applied);
            saw("snapshots installed");
            assertEquals(digestAt.get(source.applied), copy.digestNow(), "installed snapshot");
        }

        private static MvccStore roundTrip(MvccStore store) {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                SnapshotCodec.write(store, out);
                MvccStore read = SnapshotCodec.read(new ByteArrayInputStream(out.toByteArray()));
                assertEquals(store.digestNow(), read.digestNow(), "snapshot read back");
                return read;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        // ---- watches ----

        private void createWatch(Replica replica) {
            if (replica.watches.size() >= 12) {
                return;
            }
            ByteString key;
            ByteString end;
            switch (random.nextInt(4)) {
                case 0 -> {
                    key = bytes("p/");
                    end = bytes("p0");
                }
                case 1 -> {
                    key = bytes(key());
                    end = bytes(key());
                }
                case 2 -> {
                    key = MvccStore.FROM_KEY;
                    end = MvccStore.FROM_KEY;
                }
                default -> {
                    key = bytes(key());
                    end = ByteString.EMPTY;
                }
            }
            long current = replica.store.revision();
            long start = random.nextInt(3) == 0 ? 0 : 1 + random.nextInt((int) current + 1);
            Set<WatchSpec.Filter> filters = EnumSet.noneOf(WatchSpec.Filter.class);
            if (random.nextInt(5) == 0) {
                filters.add(
                        random.nextBoolean() ? WatchSpec.Filter.NOPUT : WatchSpec.Filter.NODELETE);
            }
            WatchSpec spec =
                    new WatchSpec(
                            key, end, start, random.nextBoolean(), filters, random.nextInt(4) == 0);
            SimWatch watch = new SimWatch(spec);
            watch.handle = replica.hub.watch(spec, watch);
            replica.watches.add(watch);
        }

        private void cancelWatch(Replica replica) {
            if (!replica.watches.isEmpty()) {
                SimWatch watch = replica.watches.get(random.nextInt(replica.watches.size()));
                watch.canceledByClient = true;
                watch.handle.cancel();
            }
        }

        // ---- invariants ----

        private void checkAfterStep() {
            for (Replica replica : replicas) {
                for (SimWatch watch : replica.watches) {
                    watch.checkPrefix();
                }
            }
        }

        /**
         * Runs a replica's hub and deliveries until both are quiet; then every watch owes nothing.
         */
        private void settle(Replica replica) {
            for (int rounds = 0; ; rounds++) {
                assertTrue(rounds < 100_000, "replica " + replica.name + " never went quiet");
                boolean more = replica.hub.runOnce();
                boolean delivered = replica.deliverSome(Integer.MAX_VALUE) > 0;
                if (!more && !delivered && replica.hub.pendingRevisions() == 0) {
                    break;
                }
            }
            for (SimWatch watch : replica.watches) {
                watch.checkComplete(replica.store.revision());
            }
        }

        private void settleAll() {
            for (Replica replica : replicas) {
                replica.applyUpTo(Integer.MAX_VALUE);
            }
            for (Replica replica : replicas) {
                settle(replica);
                if (!log.isEmpty()) {
                    assertEquals(
                            digestAt.get((long) log.size()),
                            replica.store.digestNow(),
                            replica.name + ": state at the end");
                }
            }
        }

        /** What a watch owes from revision {@code from} on, up to {@code upTo}: oracle events. */
        private List<WatchEvent> owed(WatchSpec spec, long from, long upTo) {
            List<WatchEvent> events = new ArrayList<>();
            if (from > upTo) {
                return events;
            }
            for (Map.Entry<Long, List<Change>> at :
                    changesAt.subMap(from, true, upTo, true).entrySet()) {
                for (Change change : at.getValue()) {
                    if (spec.covers(change.key()) && spec.reports(change.type())) {
                        events.add(change.toEvent(spec.prevKv()));
                    }
                }
            }
            return events;
        }

        /** One replica: its store, applier, watch hub, lease countdowns and listener deliveries. */
        private final class Replica implements AppliedChanges, LeaseEvents {
            final String name;
            final LeaseDeadlines deadlines = new LeaseDeadlines();
            final Queue<Runnable> deliveries = new ArrayDeque<>();
            final WatchHub hub;
            final List<SimWatch> watches = new ArrayList<>();
            MvccStore store;
            Applier applier;
            long applied;

            Replica(String name) {
                this.name = name;
                Executor delivery = deliveries::add;
                hub = new WatchHub(name, watchSettings, clock, delivery);
                install(new MvccStore(), 0);
            }

            void install(MvccStore installed, long index) {
                store = installed;
                applied = index;
                applier = new Applier(installed, this, this);
                storeInstalled(installed);
                if (this == leader) {
                    activateDeadlines();
                }
            }

            void activateDeadlines() {
                Map<Long, Long> leases = new HashMap<>();
                for (long id : store.leaseIds()) {
                    leases.put(id, store.lease(id).ttlSeconds());
                }
                deadlines.activate(leases, clock.instant());
            }

            void applyUpTo(int count) {
                for (int i = 0; i < count && applied < log.size(); i++) {
                    long index = applied + 1;
                    CommandResult result = applier.apply(log.get((int) index - 1), index);
                    applied = index;
                    saw(result.hasFailure() ? "commands refused" : "commands applied");
                    CommandResult first = resultAt.putIfAbsent(index, result);
                    if (first != null) {
                        assertEquals(first, result, name + ": result of log index " + index);
                    }
                    String digest = store.digestNow();
                    String agreed = digestAt.putIfAbsent(index, digest);
                    if (agreed != null) {
                        assertEquals(agreed, digest, name + ": state after log index " + index);
                    }
                }
            }

            void restartFromSnapshot() {
                install(roundTrip(store), applied);
                saw("restarts from a snapshot");
            }

            /** Runs up to {@code count} listener deliveries; how many ran. */
            int deliverSome(int count) {
                int ran = 0;
                Runnable task;
                while (ran < count && (task = deliveries.poll()) != null) {
                    task.run();
                    ran++;
                }
                return ran;
            }

            @Override
            public void applied(long revision, List<Change> changes) {
                List<Change> first = changesAt.putIfAbsent(revision, List.copyOf(changes));
                if (first != null) {
                    assertEquals(first, changes, name + ": changes of revision " + revision);
                }
                hub.applied(revision, changes);
            }

            @Override
            public void storeInstalled(MvccStore installed) {
                hub.storeInstalled(installed);
            }

            @Override
            public void granted(long id, long ttlSeconds) {
                deadlines.restart(id, ttlSeconds, clock.instant());
            }

            @Override
            public void renewed(long id, long ttlSeconds) {
                deadlines.restart(id, ttlSeconds, clock.instant());
            }

            @Override
            public void revoked(long id) {
                deadlines.revoked(id);
            }
        }

        /** A watch's listener that checks, as events arrive, that they are what it owes. */
        private final class SimWatch extends RecordingListener {
            final WatchSpec spec;
            Watch handle;
            boolean canceledByClient;
            private boolean endingSeen;
            private int checked;

            /** The revision after the last one reported. */
            private long next;

            SimWatch(WatchSpec spec) {
                this.spec = spec;
            }

            /** What was reported so far is exactly the start of what the watch owes. */
            void checkPrefix() {
                assertEquals(List.of(), violations(), "listener contract");
                if (next == 0) {
                    next = handle.startRevision();
                }
                if (eventCount() > checked) {
                    List<WatchEvent> events = events();
                    while (checked < events.size()) {
                        long revision = events.get(checked).revision();
                        List<WatchEvent> reported = new ArrayList<>();
                        while (checked < events.size()
                                && events.get(checked).revision() == revision) {
                            reported.add(events.get(checked++));
                        }
                        List<WatchEvent> expected = owed(spec, next, revision);
                        assertEquals(
                                describe(expected),
                                describe(reported),
                                "watch " + spec + " at revision " + revision + ", from " + next);
                        for (int i = 0; i < expected.size(); i++) {
                            checkPrior(expected.get(i), reported.get(i));
                        }
                        next = revision + 1;
                        saw("watch revisions checked");
                    }
                }
                WatchCanceled canceled = cancellation();
                if (canceled != null) {
                    checkEnding(canceled);
                }
            }

            /** Everything owed up to {@code revision} was reported, unless the watch ended. */
            void checkComplete(long revision) {
                checkPrefix();
                if (cancellation() == null) {
                    assertEquals(
                            List.of(),
                            describe(owed(spec, next, revision)),
                            "watch " + spec + " still owes events up to " + revision);
                }
            }

            private void checkEnding(WatchCanceled canceled) {
                if (!endingSeen) {
                    endingSeen = true;
                    saw("watches ended " + canceled.cause());
                }
                switch (canceled.cause()) {
                    case CANCELED -> assertTrue(canceledByClient, "canceled unasked: " + canceled);
                    case COMPACTED ->
                            assertTrue(
                                    canceled.compactRevision() >= next,
                                    "compacted below what it reported: "
                                            + canceled
                                            + ", next "
                                            + next);
                    case TOO_SLOW ->
                            assertEquals(
                                    List.of(),
                                    describe(owed(spec, next, canceled.resumeRevision() - 1)),
                                    "too slow, but events below its resume revision went missing: "
                                            + canceled);
                    default -> fail("watch ended unexpectedly: " + canceled);
                }
            }

            private void checkPrior(WatchEvent expected, WatchEvent reported) {
                if (!spec.prevKv()) {
                    assertNull(reported.prevKv(), "a previous version nobody asked for");
                } else if (reported.prevKv() != null) {
                    // History may have lost the previous version to compaction: absent is allowed.
                    assertEquals(expected.prevKv(), reported.prevKv(), "previous version");
                }
            }
        }
    }

    /** Events without their previous versions, which compaction may take away. */
    private static List<String> describe(List<WatchEvent> events) {
        List<String> described = new ArrayList<>();
        for (WatchEvent event : events) {
            described.add(event.type() + " " + event.kv());
        }
        return described;
    }
}
