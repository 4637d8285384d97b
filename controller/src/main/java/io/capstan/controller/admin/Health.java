package io.capstan.controller.admin;

import io.capstan.controller.lifecycle.ComponentState;
import io.capstan.raft.NodeStatus;
import io.capstan.web.Readiness;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What {@code /health/ready} reports, as named checks: one per lifecycle component (RUNNING), and
 * two of Raft's: {@value #LEADER} (this member knows a leader, or lost it at most {@code
 * max-leaderless} ago, so an ordinary election does not take every member out of a load balancer at
 * once) and {@value #APPLIED} (it has applied what it knows to be committed, but for at most {@link
 * NodeStatus#MAX_APPLY_LAG} entries still on their way to the state machine). The member is ready
 * when every check passes and no stop has begun.
 *
 * <p>Stateless apart from the {@link LeaderWatch}; called on I/O threads, so it only reads.
 */
final class Health {
    static final String LEADER = "leader";
    static final String APPLIED = "applied";

    private final Supplier<NodeStatus> status;
    private final LeaderWatch leaders;

    Health(Supplier<NodeStatus> status, LeaderWatch leaders) {
        this.status = status;
        this.leaders = leaders;
    }

    Readiness readiness(Map<String, ComponentState> components, boolean running) {
        NodeStatus now = status.get();
        Map<String, Boolean> checks = new LinkedHashMap<>();
        components.forEach((name, state) -> checks.put(name, state == ComponentState.RUNNING));
        checks.put(LEADER, leaders.hasLeader(now));
        checks.put(APPLIED, now.caughtUp());
        boolean ready = running && !checks.containsValue(false);

        Map<String, Object> componentStates = new LinkedHashMap<>();
        components.forEach((name, state) -> componentStates.put(name, state.name()));
        Map<String, Object> raft = new LinkedHashMap<>();
        raft.put("role", roleName(now.role()));
        raft.put("term", now.term());
        raft.put("leader", now.leaderId().orElse(null));
        raft.put("commitIndex", now.commitIndex());
        raft.put("appliedIndex", now.appliedIndex());
        raft.put(
                "lastContactMillis", leaders.sinceLeader(now).map(Duration::toMillis).orElse(null));
        Map<String, String> results = new LinkedHashMap<>();
        checks.forEach((name, pass) -> results.put(name, pass ? "pass" : "fail"));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("status", ready ? "ready" : "not_ready");
        body.put("node", now.nodeId());
        body.put("components", componentStates);
        body.put("raft", raft);
        body.put("checks", results);
        return new Readiness(ready, body, checks);
    }

    /**
     * etcd's and Raft's words: Ratis calls a non-voting member a listener, operators say learner.
     */
    static String roleName(NodeStatus.Role role) {
        return role == NodeStatus.Role.LISTENER ? "learner" : role.name().toLowerCase(Locale.ROOT);
    }
}
