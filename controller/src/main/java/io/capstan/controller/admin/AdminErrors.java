package io.capstan.controller.admin;

import io.capstan.raft.MembershipException;
import io.capstan.raft.NodeStatus;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become admin API errors. Bad input is a 4xx with a code naming the
 * problem; a refusal by the cluster's state (a membership rule, not the leader) is a 404 or 409; a
 * cluster that cannot decide now (no leader, timed out, stopping) is a 503; only a bug is a 500,
 * logged here. Stateless.
 */
final class AdminErrors {

    private static final Logger LOG = LoggerFactory.getLogger(AdminErrors.class);

    static final String BAD_REQUEST = "bad_request";
    static final String MEMBER_NOT_FOUND = "member_not_found";
    static final String NOT_LEADER = "not_leader";
    static final String NO_LEADER = "no_leader";
    static final String UNAVAILABLE = "unavailable";

    private AdminErrors() {}

    static AdminError badRequest(String message) {
        return AdminError.of(400, BAD_REQUEST, message);
    }

    static AdminError memberNotFound(String member) {
        return AdminError.of(404, MEMBER_NOT_FOUND, "no member " + member);
    }

    /**
     * What a failed call of the Raft node answers.
     *
     * @param status this member's state now, which tells "no leader" from "timed out"
     */
    static AdminError of(Throwable failure, NodeStatus status) {
        Throwable cause = unwrap(failure);
        if (cause instanceof AdminError.AdminException admin) {
            return admin.error();
        }
        if (cause instanceof MembershipException refused) {
            return membership(refused);
        }
        if (cause instanceof NotLeaderException) {
            return AdminError.of(
                    409, NOT_LEADER, "member " + status.nodeId() + " is not the leader");
        }
        if (cause instanceof TransferLeadershipException e) {
            return AdminError.of(
                    503, "transfer_failed", "leadership transfer failed: " + e.getMessage());
        }
        if (cause instanceof RejectedExecutionException) {
            return AdminError.of(
                    503, "shutting_down", "member " + status.nodeId() + " is shutting down");
        }
        if (status.role() == NodeStatus.Role.STOPPED) {
            return AdminError.of(503, UNAVAILABLE, "member " + status.nodeId() + " is not running");
        }
        if (cause instanceof IOException || cause instanceof TimeoutException) {
            LOG.debug("[{}] admin call failed: {}", status.nodeId(), cause.toString());
            return status.leaderId().isEmpty()
                    ? AdminError.of(
                            503, NO_LEADER, "member " + status.nodeId() + " knows no leader")
                    : AdminError.of(503, "timeout", "request timed out: " + cause.getMessage());
        }
        LOG.warn("admin call failed unexpectedly", cause);
        return AdminError.of(500, "internal", "internal error: " + cause);
    }

    private static AdminError membership(MembershipException e) {
        return switch (e.reason()) {
            case MEMBER_NOT_FOUND -> AdminError.of(404, MEMBER_NOT_FOUND, e.getMessage());
            case BAD_PEER_URL -> AdminError.of(400, "bad_peer_url", e.getMessage());
            case PEER_URL_EXISTS -> AdminError.of(409, "peer_url_exists", e.getMessage());
            case MEMBER_NOT_LEARNER -> AdminError.of(409, "member_not_learner", e.getMessage());
            case LEARNER_NOT_READY -> AdminError.of(409, "learner_not_ready", e.getMessage());
            case NOT_ENOUGH_MEMBERS -> AdminError.of(409, "not_enough_members", e.getMessage());
            case ADDRESS_FIXED -> AdminError.of(409, "address_fixed", e.getMessage());
        };
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
