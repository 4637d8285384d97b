package io.capstan.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Injects faults on a seeded schedule: a quiet spell, one fault of a kind drawn from those enabled,
 * held for a drawn time, healed; again until the run's end. Every draw comes from one {@link
 * Random} seeded by the run, so a seed names a schedule (what "the leader" is depends on the
 * cluster too). Pauses and dropped messages last 3 to 7 s, longer than an election timeout (1 to 2
 * s on Capstan, 1 s on etcd).
 *
 * <p>Threads: the control thread only, which owns {@link #dropping} and {@link #failures}.
 */
final class Nemesis {
    private static final Duration MEMBERSHIP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);

    private final Cluster cluster;
    private final MemberChanges memberChanges;
    private final Optional<LinkFaults> links;
    private final FaultLog log;
    private final Random random;
    private final List<String> failures = new ArrayList<>();

    /** Members told to drop messages and not healed since. */
    private final Set<MemberSlot> dropping = new LinkedHashSet<>();

    /**
     * @param links how to drop messages between members; needed by the kinds that {@link
     *     FaultKind#dropsMessages}
     */
    Nemesis(
            Cluster cluster,
            MemberChanges memberChanges,
            Optional<LinkFaults> links,
            FaultLog log,
            Random random) {
        this.cluster = cluster;
        this.memberChanges = memberChanges;
        this.links = links;
        this.log = log;
        this.random = random;
    }

    /**
     * Injects faults of {@code kinds} until {@code endNanos} ({@link System#nanoTime()}), each
     * healed; with no kinds, only waits until then.
     */
    void run(List<FaultKind> kinds, long endNanos) throws IOException, InterruptedException {
        if (kinds.isEmpty()) {
            Thread.sleep(Math.max(0, (endNanos - System.nanoTime()) / 1_000_000));
            return;
        }
        Thread.sleep(1000 + random.nextInt(2000));
        while (System.nanoTime() + Duration.ofSeconds(4).toNanos() < endNanos) {
            inject(kinds.get(random.nextInt(kinds.size())), endNanos);
            Thread.sleep(2000 + random.nextInt(3000));
        }
    }

    private void inject(FaultKind kind, long endNanos) throws IOException, InterruptedException {
        List<MemberSlot> members = cluster.members();
        switch (kind) {
            case KILL, KILL_LEADER -> {
                MemberSlot m = kind == FaultKind.KILL ? pick(members) : leaderOrAny(kind);
                log.start(kind.label(), "SIGKILL " + m);
                cluster.kill(m);
                hold(2000, 6000, endNanos);
                cluster.start(m);
                log.end(kind.label(), "restarted " + m);
            }
            case PAUSE, PAUSE_LEADER -> {
                MemberSlot m = kind == FaultKind.PAUSE ? pick(members) : leaderOrAny(kind);
                log.start(kind.label(), "SIGSTOP " + m);
                cluster.pause(m);
                hold(3000, 7000, endNanos);
                cluster.resume(m);
                log.end(kind.label(), "SIGCONT " + m);
            }
            case KILL_ALL -> {
                log.start(kind.label(), "SIGKILL every member");
                for (MemberSlot m : members) {
                    cluster.kill(m);
                }
                hold(1000, 3000, endNanos);
                cluster.startAll();
                log.end(kind.label(), "restarted every member");
            }
            case ISOLATE_LEADER -> {
                MemberSlot leader = leaderOrAny(kind);
                List<MemberSlot> rest = members.stream().filter(m -> !m.equals(leader)).toList();
                log.start(
                        kind.label(),
                        "partition "
                                + List.of(leader)
                                + " | "
                                + rest
                                + leaderNote(List.of(leader), rest));
                cutLinks(kind, endNanos, () -> split(List.of(leader), rest));
            }
            case PARTITION -> {
                List<MemberSlot> shuffled = new ArrayList<>(members);
                Collections.shuffle(shuffled, random);
                int minority = 1 + random.nextInt((members.size() - 1) / 2);
                List<MemberSlot> small = sorted(shuffled.subList(0, minority));
                List<MemberSlot> large = sorted(shuffled.subList(minority, shuffled.size()));
                log.start(
                        kind.label(),
                        "partition " + small + " | " + large + leaderNote(small, large));
                cutLinks(kind, endNanos, () -> split(small, large));
            }
            case MEMBER_CHANGE, MEMBER_CHANGE_LEARNER ->
                    changeMember(kind, pick(members), kind == FaultKind.MEMBER_CHANGE_LEARNER);
            case DROP_ONE_WAY -> {
                MemberSlot from = pick(members);
                List<MemberSlot> rest = members.stream().filter(m -> !m.equals(from)).toList();
                MemberSlot to = rest.get(random.nextInt(rest.size()));
                log.start(
                        kind.label(),
                        "drop " + from + " -> " + to + leaderNote(List.of(from), List.of(to)));
                cutLinks(kind, endNanos, () -> drop(from, List.of(to)));
            }
        }
    }

    /**
     * Removes {@code m} and adds it back on an empty data directory; a step that does not finish
     * within {@link #MEMBERSHIP_TIMEOUT} ends the fault and is one of the run's {@link #failures}.
     */
    private void changeMember(FaultKind kind, MemberSlot m, boolean learner)
            throws IOException, InterruptedException {
        log.start(
                kind.label(),
                "remove "
                        + m
                        + ", then add it back"
                        + (learner ? " as a learner" : "")
                        + cluster.leader()
                                .map(l -> l.equals(m) ? " (the leader)" : " (leader " + l + ")")
                                .orElse(""));
        if (!memberChanges.remove(m, MEMBERSHIP_TIMEOUT)) {
            fail(
                    kind,
                    m
                            + " still listed "
                            + MEMBERSHIP_TIMEOUT.toSeconds()
                            + " s after its removal began");
            return;
        }
        log.note(m + " removed");
        boolean stopped = cluster.stop(m, STOP_GRACE);
        wipe(m.dataDir());
        log.note(
                m
                        + (stopped
                                ? " stopped"
                                : " did not stop within "
                                        + STOP_GRACE.toSeconds()
                                        + " s of SIGTERM; killed")
                        + ", its data deleted");
        Thread.sleep(1000 + random.nextInt(2000));
        Optional<Long> id = memberChanges.add(m, learner, MEMBERSHIP_TIMEOUT);
        if (id.isEmpty()) {
            fail(
                    kind,
                    m + " not listed " + MEMBERSHIP_TIMEOUT.toSeconds() + " s after its add began");
            return;
        }
        cluster.joinOnStart(m);
        cluster.start(m);
        log.note(m + " added back as " + Long.toHexString(id.get()) + " and started");
        if (memberChanges.awaitServing(m, id.get(), learner, MEMBERSHIP_TIMEOUT)) {
            log.end(kind.label(), m + " serves" + (learner ? " (promoted)" : ""));
        } else {
            fail(
                    kind,
                    m
                            + " added back"
                            + (learner ? " as a learner" : "")
                            + " does not serve linearizable reads "
                            + MEMBERSHIP_TIMEOUT.toSeconds()
                            + " s after it started");
        }
    }

    private void fail(FaultKind kind, String what) throws IOException {
        failures.add(what);
        log.end(kind.label(), "FAILED: " + what);
    }

    /**
     * What went wrong while faults were injected that the history cannot show (a member that never
     * served again).
     */
    List<String> failures() {
        return List.copyOf(failures);
    }

    /**
     * Ends every fault: heals dropped messages, resumes paused members and starts every member that
     * is down.
     */
    void healAll() throws IOException {
        healLinks();
        for (MemberSlot m : cluster.members()) {
            cluster.resume(m);
        }
        cluster.startAll();
    }

    /** Something that sets drops of messages. */
    @FunctionalInterface
    private interface LinkCut {
        void cut() throws IOException;
    }

    /**
     * Sets the drops {@code cut} makes, holds them 3 to 7 s and heals them. A member that does not
     * take its drops (one whose web layer is still starting after a restart, past the client's
     * patience) leaves the fault not injected, as the fault log says, rather than ending the run.
     */
    private void cutLinks(FaultKind kind, long endNanos, LinkCut cut)
            throws IOException, InterruptedException {
        try {
            cut.cut();
        } catch (IOException e) {
            healLinks();
            log.notInjected(kind.label(), e.getMessage());
            return;
        }
        hold(3000, 7000, endNanos);
        healLinks();
        log.end(kind.label(), "healed");
    }

    /** Neither side reaches the other. */
    private void split(List<MemberSlot> a, List<MemberSlot> b) throws IOException {
        for (MemberSlot m : a) {
            drop(m, b);
        }
        for (MemberSlot m : b) {
            drop(m, a);
        }
    }

    private void drop(MemberSlot from, List<MemberSlot> to) throws IOException {
        LinkFaults l =
                links.orElseThrow(
                        () -> new IllegalStateException("the target cannot drop messages"));
        // Healed later even if this fails: the member may have taken the drops and answered too
        // late.
        dropping.add(from);
        l.drop(from, to);
    }

    private void healLinks() throws IOException {
        for (MemberSlot m : List.copyOf(dropping)) {
            links.orElseThrow().heal(m);
            dropping.remove(m);
        }
    }

    /** Where the leader was when the fault began, for the fault log: " (leader n2)". */
    private String leaderNote(List<MemberSlot> a, List<MemberSlot> b) {
        Optional<MemberSlot> leader = cluster.leader();
        return leader.map(
                        l ->
                                " (leader "
                                        + l
                                        + (a.contains(l)
                                                ? ", first side"
                                                : b.contains(l) ? ", second side" : "")
                                        + ")")
                .orElse(" (no leader known)");
    }

    private static List<MemberSlot> sorted(List<MemberSlot> members) {
        return members.stream().sorted(Comparator.comparingInt(MemberSlot::index)).toList();
    }

    private MemberSlot pick(List<MemberSlot> members) {
        return members.get(random.nextInt(members.size()));
    }

    /** The leader, or a random member (noted in the log) when no leader is known now. */
    private MemberSlot leaderOrAny(FaultKind kind) throws IOException {
        Optional<MemberSlot> leader = cluster.leader();
        if (leader.isPresent()) {
            return leader.get();
        }
        MemberSlot m = pick(cluster.members());
        log.note(kind.label() + ": no leader known now; " + m + " instead");
        return m;
    }

    /**
     * Holds a fault for a drawn time, cut short by the run's end but never below half the minimum.
     */
    private void hold(int minMillis, int maxMillis, long endNanos) throws InterruptedException {
        long millis = minMillis + random.nextInt(maxMillis - minMillis);
        long left = Math.max(0, (endNanos - System.nanoTime()) / 1_000_000);
        Thread.sleep(Math.max(Math.min(millis, left), minMillis / 2));
    }

    /** Deletes {@code dir} and everything in it, if it exists. */
    static void wipe(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
