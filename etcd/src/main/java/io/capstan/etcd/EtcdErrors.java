package io.capstan.etcd;

import io.capstan.raft.InvalidCommandException;
import io.capstan.raft.KeyspaceException;
import io.capstan.raft.MembershipException;
import io.capstan.raft.NodeStatus;
import io.grpc.Status.Code;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.exceptions.NotLeaderException;
import org.apache.ratis.protocol.exceptions.ResourceUnavailableException;
import org.apache.ratis.protocol.exceptions.TransferLeadershipException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become etcd's errors (gRPC code and message, as etcd's {@code
 * api/v3rpc/rpctypes} defines them) and where those become the JSON gateway's HTTP status (as
 * grpc-gateway maps gRPC codes). Stateless.
 *
 * <p>Refusals of the Raft layer map by their typed reason: {@link InvalidCommandException} (never
 * proposed), {@link KeyspaceException} (refused by the keyspace) and {@link MembershipException} (a
 * membership change refused). Rules Capstan adds to etcd's (key and value size) answer as etcd
 * answers a request over its size limit; a malformed field etcd has no word for is {@code
 * INVALID_ARGUMENT} with the field named. A Ratis failure or a timeout is {@code UNAVAILABLE}:
 * {@code server stopped} when this member is not running, {@code no leader} when it knows none,
 * else {@code request timed out} (a write that timed out may still commit, as in etcd). Ratis's own
 * "closed" errors name a connection to a peer, not this member, so they count as the cluster's
 * failure too.
 */
final class EtcdErrors {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdErrors.class);

    static final EtcdError EMPTY_KEY =
            error(Code.INVALID_ARGUMENT, "etcdserver: key is not provided");
    static final EtcdError KEY_NOT_FOUND =
            error(Code.INVALID_ARGUMENT, "etcdserver: key not found");
    static final EtcdError VALUE_PROVIDED =
            error(Code.INVALID_ARGUMENT, "etcdserver: value is provided");
    static final EtcdError LEASE_PROVIDED =
            error(Code.INVALID_ARGUMENT, "etcdserver: lease is provided");
    static final EtcdError TOO_MANY_OPS =
            error(Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
    static final EtcdError DUPLICATE_KEY =
            error(Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
    static final EtcdError COMPACTED =
            error(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
    static final EtcdError FUTURE_REVISION =
            error(Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
    static final EtcdError LEASE_NOT_FOUND =
            error(Code.NOT_FOUND, "etcdserver: requested lease not found");
    static final EtcdError LEASE_EXISTS =
            error(Code.FAILED_PRECONDITION, "etcdserver: lease already exists");
    static final EtcdError LEASE_TTL_TOO_LARGE =
            error(Code.OUT_OF_RANGE, "etcdserver: too large lease TTL");
    static final EtcdError REQUEST_TOO_LARGE =
            error(Code.INVALID_ARGUMENT, "etcdserver: request is too large");
    static final EtcdError TOO_MANY_REQUESTS =
            error(Code.RESOURCE_EXHAUSTED, "etcdserver: too many requests");

    /** A write refused while a NOSPACE alarm is raised (or by the member whose disk is short). */
    static final EtcdError NO_SPACE =
            error(Code.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded");

    static final EtcdError MEMBER_NOT_FOUND = error(Code.NOT_FOUND, "etcdserver: member not found");
    static final EtcdError PEER_URL_EXISTS =
            error(Code.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists");
    static final EtcdError MEMBER_BAD_URLS =
            error(Code.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid");
    static final EtcdError MEMBER_NOT_LEARNER =
            error(Code.FAILED_PRECONDITION, "etcdserver: can only promote a learner member");
    static final EtcdError LEARNER_NOT_READY =
            error(
                    Code.FAILED_PRECONDITION,
                    "etcdserver: can only promote a learner member which is in sync with leader");
    static final EtcdError NOT_ENOUGH_STARTED_MEMBERS =
            error(
                    Code.FAILED_PRECONDITION,
                    "etcdserver: re-configuration failed due to not enough started members");
    static final EtcdError NOT_SUPPORTED_FOR_LEARNER =
            error(Code.FAILED_PRECONDITION, "etcdserver: rpc not supported for learner");
    static final EtcdError NOT_LEADER = error(Code.FAILED_PRECONDITION, "etcdserver: not leader");
    static final EtcdError BAD_LEADER_TRANSFEREE =
            error(Code.FAILED_PRECONDITION, "etcdserver: bad leader transferee");
    // etcd has no gRPC code for it and answers UNKNOWN with the text.
    static final EtcdError LEADER_TRANSFER_TIMEOUT =
            error(Code.UNKNOWN, "etcdserver: request timed out, leader transfer took too long");
    static final EtcdError NO_LEADER = error(Code.UNAVAILABLE, "etcdserver: no leader");
    static final EtcdError STOPPED = error(Code.UNAVAILABLE, "etcdserver: server stopped");
    static final EtcdError TIMEOUT = error(Code.UNAVAILABLE, "etcdserver: request timed out");
    // etcd's concurrency recipes return these as plain errors, which gRPC answers UNKNOWN.
    static final EtcdError ELECTION_NO_LEADER = refusal("election: no leader", 404);
    static final EtcdError ELECTION_NOT_LEADER = refusal("election: not leader", 409);
    static final EtcdError LEADER_KEY_MISSING = refusal("\"leader\" field must be provided", 400);
    static final EtcdError SESSION_EXPIRED = refusal("mutex: session is expired", 404);
    static final EtcdError PERMISSION_DENIED =
            error(Code.PERMISSION_DENIED, "etcdserver: permission denied");
    static final EtcdError AUTH_FAILED =
            error(
                    Code.INVALID_ARGUMENT,
                    "etcdserver: authentication failed, invalid user ID or password");
    static final EtcdError USER_EMPTY =
            error(Code.INVALID_ARGUMENT, "etcdserver: user name is empty");
    static final EtcdError ROLE_EMPTY =
            error(Code.INVALID_ARGUMENT, "etcdserver: role name is empty");
    static final EtcdError PERMISSION_NOT_GIVEN =
            error(Code.INVALID_ARGUMENT, "etcdserver: permission not given");
    static final EtcdError INVALID_AUTH_TOKEN =
            error(Code.UNAUTHENTICATED, "etcdserver: invalid auth token");
    static final EtcdError USER_EXISTS =
            error(Code.FAILED_PRECONDITION, "etcdserver: user name already exists");
    static final EtcdError USER_NOT_FOUND =
            error(Code.FAILED_PRECONDITION, "etcdserver: user name not found");
    static final EtcdError ROLE_EXISTS =
            error(Code.FAILED_PRECONDITION, "etcdserver: role name already exists");
    static final EtcdError ROLE_NOT_FOUND =
            error(Code.FAILED_PRECONDITION, "etcdserver: role name not found");
    static final EtcdError ROLE_NOT_GRANTED =
            error(Code.FAILED_PRECONDITION, "etcdserver: role is not granted to the user");
    static final EtcdError PERMISSION_NOT_GRANTED =
            error(Code.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role");
    static final EtcdError AUTH_NOT_ENABLED =
            error(Code.FAILED_PRECONDITION, "etcdserver: authentication is not enabled");
    static final EtcdError ROOT_USER_MISSING =
            error(Code.FAILED_PRECONDITION, "etcdserver: root user does not exist");
    static final EtcdError ROOT_ROLE_NOT_GRANTED =
            error(Code.FAILED_PRECONDITION, "etcdserver: root user does not have root role");
    static final EtcdError INVALID_AUTH_MANAGEMENT =
            error(Code.FAILED_PRECONDITION, "etcdserver: invalid auth management");

    private EtcdErrors() {}

    /** A field etcd has no error of its own for, named in the message. */
    static EtcdError invalid(String problem) {
        return error(Code.INVALID_ARGUMENT, "etcdserver: " + problem);
    }

    /** A failure etcd has no error of its own for, as etcd words one: UNKNOWN and the text. */
    static EtcdError unknown(String problem) {
        return error(Code.UNKNOWN, "etcdserver: " + problem);
    }

    /**
     * A failure of the KV calls behind a Lock or Election call, as etcd answers it: etcd's lock and
     * election servers make those calls through etcd's own client, which hands them a refusal as a
     * plain error, so gRPC answers UNKNOWN with etcd's text (a lease not found included). A member
     * that cannot serve now keeps UNAVAILABLE, so that clients retry elsewhere, and auth's refusals
     * keep theirs (PERMISSION_DENIED, UNAUTHENTICATED, a missing user name), so that clients
     * re-authenticate or report a denial as such.
     */
    static EtcdError viaClient(Throwable failure) {
        EtcdError error = of(failure);
        boolean keepsCode =
                switch (error.code()) {
                    case UNAVAILABLE, UNKNOWN, PERMISSION_DENIED, UNAUTHENTICATED -> true;
                    default -> error.equals(USER_EMPTY);
                };
        return keepsCode ? error : refusal(error.message(), error.httpStatus());
    }

    /**
     * A gateway request body that does not parse as the call's request message (grpc-gateway's
     * code).
     */
    static EtcdError badJson(String problem) {
        return error(Code.INVALID_ARGUMENT, problem);
    }

    /**
     * What etcd would answer for a failure of a call to the Raft node.
     *
     * @param status the member's state now, which tells "no leader" from "timed out"
     */
    static EtcdException fromRaft(Throwable failure, NodeStatus status) {
        Throwable cause = unwrap(failure);
        if (cause instanceof EtcdException etcd) {
            return etcd;
        }
        if (cause instanceof InvalidCommandException invalid) {
            return invalidCommand(invalid).toException();
        }
        if (cause instanceof KeyspaceException refused) {
            return keyspace(refused).toException();
        }
        if (cause instanceof MembershipException refused) {
            return membership(refused).toException();
        }
        if (cause instanceof ResourceUnavailableException) {
            return TOO_MANY_REQUESTS.toException();
        }
        // Only a leadership transfer meets these: other calls go through the client, which retries
        // them.
        if (cause instanceof NotLeaderException) {
            return NOT_LEADER.toException();
        }
        if (cause instanceof TransferLeadershipException) {
            return LEADER_TRANSFER_TIMEOUT.toException();
        }
        if (status.role() == NodeStatus.Role.STOPPED) {
            return STOPPED.toException();
        }
        if (cause instanceof IOException || cause instanceof TimeoutException) {
            LOG.debug("[{}] raft call failed: {}", status.nodeId(), cause.toString());
            return (status.leaderId().isEmpty() ? NO_LEADER : TIMEOUT).toException();
        }
        return unexpected(cause).toException();
    }

    /** The etcd error a failed future of this package carries; anything else is a bug, logged. */
    static EtcdError of(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof EtcdException etcd) {
            return etcd.error();
        }
        return unexpected(cause);
    }

    /**
     * The HTTP status grpc-gateway (etcd's JSON gateway) answers for a gRPC code.
     * FAILED_PRECONDITION is 400, not 412, as there.
     */
    static int httpStatus(Code code) {
        return switch (code) {
            case OK -> 200;
            case CANCELLED -> 408;
            case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, ABORTED -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case UNIMPLEMENTED -> 501;
            case UNAVAILABLE -> 503;
            case DEADLINE_EXCEEDED -> 504;
            case UNKNOWN, INTERNAL, DATA_LOSS -> 500;
        };
    }

    private static EtcdError invalidCommand(InvalidCommandException e) {
        return switch (e.reason()) {
            case EMPTY_KEY -> EMPTY_KEY;
            case KEY_TOO_LARGE, VALUE_TOO_LARGE, REQUEST_TOO_LARGE -> REQUEST_TOO_LARGE;
            case TOO_MANY_OPS -> TOO_MANY_OPS;
            case DUPLICATE_KEY -> DUPLICATE_KEY;
            case VALUE_PROVIDED -> VALUE_PROVIDED;
            case LEASE_PROVIDED -> LEASE_PROVIDED;
            case TTL_TOO_LARGE -> LEASE_TTL_TOO_LARGE;
            case MALFORMED -> invalid(e.getMessage());
        };
    }

    private static EtcdError keyspace(KeyspaceException e) {
        return switch (e.code()) {
            case COMPACTED -> COMPACTED;
            case FUTURE_REVISION -> FUTURE_REVISION;
            case LEASE_NOT_FOUND -> LEASE_NOT_FOUND;
            case LEASE_EXISTS -> LEASE_EXISTS;
            case KEY_NOT_FOUND -> KEY_NOT_FOUND;
            case INVALID -> invalid(e.getMessage());
            case PERMISSION_DENIED -> PERMISSION_DENIED;
            case USER_EMPTY -> USER_EMPTY;
            case INVALID_TOKEN -> INVALID_AUTH_TOKEN;
            case USER_EXISTS -> USER_EXISTS;
            case USER_NOT_FOUND -> USER_NOT_FOUND;
            case ROLE_EXISTS -> ROLE_EXISTS;
            case ROLE_NOT_FOUND -> ROLE_NOT_FOUND;
            case ROLE_NOT_GRANTED -> ROLE_NOT_GRANTED;
            case PERMISSION_NOT_GRANTED -> PERMISSION_NOT_GRANTED;
            case AUTH_NOT_ENABLED -> AUTH_NOT_ENABLED;
            case ROOT_USER_MISSING -> ROOT_USER_MISSING;
            case ROOT_ROLE_NOT_GRANTED -> ROOT_ROLE_NOT_GRANTED;
            case INVALID_AUTH_MANAGEMENT -> INVALID_AUTH_MANAGEMENT;
            case ROLE_EMPTY -> ROLE_EMPTY;
            case NO_SPACE -> NO_SPACE;
            // The etcd API proposes no artifact command.
            case CODE_UNSPECIFIED, UNRECOGNIZED, ARTIFACT_NOT_FOUND, ARTIFACT_REFERENCED ->
                    unexpected(e);
        };
    }

    private static EtcdError membership(MembershipException e) {
        return switch (e.reason()) {
            case MEMBER_NOT_FOUND -> MEMBER_NOT_FOUND;
            case PEER_URL_EXISTS -> PEER_URL_EXISTS;
            case BAD_PEER_URL -> MEMBER_BAD_URLS;
            case MEMBER_NOT_LEARNER -> MEMBER_NOT_LEARNER;
            case LEARNER_NOT_READY -> LEARNER_NOT_READY;
            case NOT_ENOUGH_MEMBERS -> NOT_ENOUGH_STARTED_MEMBERS;
            case ADDRESS_FIXED -> error(Code.FAILED_PRECONDITION, "etcdserver: " + e.getMessage());
        };
    }

    // etcd answers an error it has no mapping for with UNKNOWN and the error's text.
    private static EtcdError unexpected(Throwable cause) {
        LOG.warn("etcd API call failed unexpectedly", cause);
        return error(Code.UNKNOWN, "etcdserver: " + cause);
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static EtcdError error(Code code, String message) {
        return new EtcdError(code, message);
    }

    /**
     * A refusal of the request that etcd answers UNKNOWN (its recipes' plain errors): gRPC clients
     * get etcd's code, while the gateway answers {@code httpStatus}, a 4xx, where etcd's gateway
     * answers 500 for every UNKNOWN: a request the member refuses is the client's to fix.
     */
    static EtcdError refusal(String message, int httpStatus) {
        return new EtcdError(Code.UNKNOWN, message, httpStatus);
    }
}
