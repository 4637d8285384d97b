package io.capstan.controller.admin;

import io.capstan.raft.Member;
import io.capstan.raft.RaftNode;
import io.capstan.raft.ReadConsistency;
import io.capstan.transport.PeerFaults;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /v1/faults/peers}: the peer transport's fault seam, for fault tests that run members as
 * processes. It exists only with {@code capstan.transport.fault-injection = on}.
 *
 * <ul>
 *   <li>{@code GET}: the faults in force, {@code {"member", "drop": [...], "delay_ms": {...},
 *       "dropped_requests"}};
 *   <li>{@code PUT} with {@code {"drop": ["n2"], "delay_ms": {"n3": 200}}}: from now on this
 *       member's Raft requests to n2 are dropped and those to n3 sent 200 ms late, and no other
 *       fault applies (the body replaces the rules in one step); answers as {@code GET};
 *   <li>{@code DELETE}: every fault cleared; answers as {@code GET}.
 * </ul>
 *
 * Faults act on this member's outgoing requests only (a reply to a peer's request is never
 * dropped), so a partition is set on both sides and a one-way drop on one. A peer must be a started
 * member other than this one; anything else is a 400 naming it. Immutable; the rules themselves are
 * {@link PeerFaults}', replaced atomically.
 */
final class PeerFaultsEndpoints {
    private static final Logger LOG = LoggerFactory.getLogger(PeerFaultsEndpoints.class);

    static final String PATH = "/v1/faults/peers";
    private static final String DROP = "drop";
    private static final String DELAY = "delay_ms";

    /** A delay beyond a minute is no longer a slow network but a drop with extra steps. */
    private static final long MAX_DELAY_MS = 60_000;

    private final RaftNode raft;
    private final PeerFaults faults;

    PeerFaultsEndpoints(RaftNode raft, PeerFaults faults) {
        this.raft = raft;
        this.faults = faults;
    }

    AdminEndpoint show() {
        return request -> CompletableFuture.completedFuture(AdminEndpoint.Answer.ok(view()));
    }

    AdminEndpoint replace() {
        return request -> {
            RequestJson body = RequestJson.parse(request.body(), Set.of(DROP, DELAY));
            List<String> drop = body.texts(DROP);
            Map<String, Long> delay = body.wholeNumbers(DELAY, 1, MAX_DELAY_MS);
            return raft.admin()
                    .members(ReadConsistency.SERIALIZABLE)
                    .thenApply(
                            members -> {
                                Map<RaftPeerId, PeerFaults.Fault> rules = new HashMap<>();
                                for (String peer : drop) {
                                    rules.put(peer(peer, members), PeerFaults.Fault.dropped());
                                }
                                for (Map.Entry<String, Long> e : delay.entrySet()) {
                                    if (rules.put(
                                                    peer(e.getKey(), members),
                                                    PeerFaults.Fault.delayed(
                                                            Duration.ofMillis(e.getValue())))
                                            != null) {
                                        throw AdminErrors.badRequest(
                                                        "peer "
                                                                + e.getKey()
                                                                + " is both in '"
                                                                + DROP
                                                                + "' and in '"
                                                                + DELAY
                                                                + "'; a request is either dropped or delayed")
                                                .toException();
                                    }
                                }
                                faults.replace(rules);
                                LOG.warn(
                                        "[{}] peer faults now: drop {}, delay_ms {}",
                                        raft.nodeId(),
                                        drop,
                                        delay);
                                return AdminEndpoint.Answer.ok(view());
                            });
        };
    }

    AdminEndpoint clear() {
        return request -> {
            faults.healAll();
            LOG.warn("[{}] peer faults cleared", raft.nodeId());
            return CompletableFuture.completedFuture(AdminEndpoint.Answer.ok(view()));
        };
    }

    /** The peer named {@code name}: a started member other than this one, else a 400. */
    private RaftPeerId peer(String name, List<Member> members) {
        if (name.equals(raft.nodeId())) {
            throw AdminErrors.badRequest(
                            "peer "
                                    + name
                                    + " is this member; faults apply to requests to other members")
                    .toException();
        }
        if (members.stream().noneMatch(m -> m.started() && m.name().equals(name))) {
            throw AdminErrors.badRequest(
                            "no started member "
                                    + name
                                    + "; members: "
                                    + new TreeSet<>(
                                            members.stream()
                                                    .filter(Member::started)
                                                    .map(Member::name)
                                                    .toList()))
                    .toException();
        }
        return RaftPeerId.valueOf(name);
    }

    private Map<String, Object> view() {
        Set<String> drop = new TreeSet<>();
        Map<String, Long> delay = new TreeMap<>();
        faults.rules()
                .forEach(
                        (peer, fault) -> {
                            if (fault.drop()) {
                                drop.add(peer.toString());
                            } else {
                                delay.put(peer.toString(), fault.delay().toMillis());
                            }
                        });
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("member", raft.nodeId());
        view.put(DROP, drop);
        view.put(DELAY, delay);
        view.put("dropped_requests", faults.droppedCount());
        return view;
    }
}
