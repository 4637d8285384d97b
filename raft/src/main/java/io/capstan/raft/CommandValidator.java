package io.capstan.raft;

import com.google.protobuf.ByteString;
import io.capstan.raft.InvalidCommandException.Reason;
import io.capstan.raft.proto.AlarmType;
import io.capstan.raft.proto.ArtifactFetchedRequest;
import io.capstan.raft.proto.ArtifactRegisterRequest;
import io.capstan.raft.proto.ArtifactReleaseRequest;
import io.capstan.raft.proto.AuthPermission;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Compare;
import io.capstan.raft.proto.DeleteRangeRequest;
import io.capstan.raft.proto.MemberRecord;
import io.capstan.raft.proto.PutRequest;
import io.capstan.raft.proto.Query;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RequestOp;
import io.capstan.raft.proto.RoleRevokePermissionRequest;
import io.capstan.raft.proto.TxnRequest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks commands and queries against etcd's request rules and the configured {@link Limits} before
 * they reach the log, so apply only ever sees well-formed input. Stateless and thread-safe: it
 * looks at the request alone, never at the store.
 */
final class CommandValidator {
    /** Nested transactions deeper than this are refused (etcd bounds them only by size). */
    static final int MAX_TXN_DEPTH = 16;

    /** Most leases one expiry command may revoke. */
    static final int MAX_EXPIRE_IDS = 1_000;

    static final int MAX_MEMBER_URLS = 8;

    static final int MAX_AUTH_NAME_CHARS = 256;

    /** A bcrypt hash in modular crypt form is 60 characters. */
    static final int MAX_PASSWORD_HASH_CHARS = 128;

    static final int MIN_TOKEN_KEY_BYTES = 32;
    static final int MAX_TOKEN_KEY_BYTES = 64;

    /** An artifact digest: the algorithm, then the hex digits of a SHA-256. */
    static final Pattern ARTIFACT_DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    static final int MAX_ARTIFACT_TEXT_CHARS = 256;
    static final int MAX_ARTIFACT_URL_CHARS = 2048;
    static final int MAX_ARTIFACT_FAILURE_CHARS = 1024;

    /** Most references one artifact command may add or remove. */
    static final int MAX_ARTIFACT_REFERENCES = 64;

    private final Limits limits;

    CommandValidator(Limits limits) {
        this.limits = limits;
    }

    /**
     * @throws InvalidCommandException naming the first problem found
     */
    void validate(Command command) {
        if (command.getSerializedSize() > limits.maxRequestBytes()) {
            throw new InvalidCommandException(
                    Reason.REQUEST_TOO_LARGE,
                    "request is too large: "
                            + command.getSerializedSize()
                            + " bytes, limit "
                            + limits.maxRequestBytes());
        }
        switch (command.getCommandCase()) {
            case PUT -> put(command.getPut());
            case DELETE_RANGE -> deleteRange(command.getDeleteRange());
            case TXN -> txn(command.getTxn(), 1);
            // Any revision: the keyspace answers a compacted or future one as etcd does.
            case COMPACTION -> {}
            case LEASE_GRANT -> {
                long ttl = command.getLeaseGrant().getTtl();
                if (ttl <= 0) {
                    throw malformed("lease_grant.ttl must be positive, got " + ttl);
                }
                if (ttl > limits.maxLeaseTtlSeconds()) {
                    throw new InvalidCommandException(
                            Reason.TTL_TOO_LARGE,
                            "lease_grant.ttl "
                                    + ttl
                                    + " exceeds the limit of "
                                    + limits.maxLeaseTtlSeconds()
                                    + " seconds");
                }
                if (command.getLeaseGrant().getId() < 0) {
                    throw malformed(
                            "lease_grant.id must not be negative, got "
                                    + command.getLeaseGrant().getId());
                }
            }
            case LEASE_REVOKE -> leaseId("lease_revoke.id", command.getLeaseRevoke().getId());
            case LEASE_KEEP_ALIVE ->
                    leaseId("lease_keep_alive.id", command.getLeaseKeepAlive().getId());
            case LEASE_EXPIRE -> {
                List<Long> ids = command.getLeaseExpire().getIdsList();
                if (ids.isEmpty() || ids.size() > MAX_EXPIRE_IDS) {
                    throw malformed(
                            "lease_expire.ids must hold 1 to "
                                    + MAX_EXPIRE_IDS
                                    + " ids, got "
                                    + ids.size());
                }
                ids.forEach(id -> leaseId("lease_expire.ids", id));
            }
            case MEMBER_PUT -> member(command.getMemberPut().getMember());
            case MEMBER_DELETE -> {
                if (command.getMemberDelete().getId() == 0) {
                    throw malformed("member_delete.id must not be 0");
                }
            }
            case AUTH_ENABLE -> {
                int size = command.getAuthEnable().getTokenKey().size();
                if (size < MIN_TOKEN_KEY_BYTES || size > MAX_TOKEN_KEY_BYTES) {
                    throw malformed(
                            "auth_enable.token_key must hold "
                                    + MIN_TOKEN_KEY_BYTES
                                    + " to "
                                    + MAX_TOKEN_KEY_BYTES
                                    + " bytes, got "
                                    + size);
                }
            }
            case AUTH_DISABLE -> {}
            case USER_ADD -> {
                authName("user_add.name", command.getUserAdd().getName());
                passwordHash("user_add.password_hash", command.getUserAdd().getPasswordHash());
            }
            case USER_DELETE -> authName("user_delete.name", command.getUserDelete().getName());
            case USER_CHANGE_PASSWORD -> {
                authName("user_change_password.name", command.getUserChangePassword().getName());
                passwordHash(
                        "user_change_password.password_hash",
                        command.getUserChangePassword().getPasswordHash());
            }
            case USER_GRANT_ROLE -> {
                authName("user_grant_role.user", command.getUserGrantRole().getUser());
                authName("user_grant_role.role", command.getUserGrantRole().getRole());
            }
            case USER_REVOKE_ROLE -> {
                authName("user_revoke_role.name", command.getUserRevokeRole().getName());
                authName("user_revoke_role.role", command.getUserRevokeRole().getRole());
            }
            case ROLE_ADD -> authName("role_add.name", command.getRoleAdd().getName());
            case ROLE_DELETE -> authName("role_delete.role", command.getRoleDelete().getRole());
            case ROLE_GRANT_PERMISSION -> {
                authName("role_grant_permission.name", command.getRoleGrantPermission().getName());
                AuthPermission perm = command.getRoleGrantPermission().getPerm();
                if (perm.getPermType() == AuthPermission.Type.UNRECOGNIZED) {
                    throw malformed("role_grant_permission.perm.perm_type is unknown");
                }
                // An empty key with range end "\0" is etcdctl's "every key".
                rangeEnd("role_grant_permission.perm.key", perm.getKey());
                rangeEnd("role_grant_permission.perm.range_end", perm.getRangeEnd());
            }
            case ROLE_REVOKE_PERMISSION -> {
                RoleRevokePermissionRequest revoke = command.getRoleRevokePermission();
                authName("role_revoke_permission.role", revoke.getRole());
                rangeEnd("role_revoke_permission.key", revoke.getKey());
                rangeEnd("role_revoke_permission.range_end", revoke.getRangeEnd());
            }
            case ARTIFACT_REGISTER -> {
                ArtifactRegisterRequest register = command.getArtifactRegister();
                artifactDigest("artifact_register.digest", register.getDigest());
                nonNegative("artifact_register.size", register.getSize());
                text(
                        "artifact_register.media_type",
                        register.getMediaType(),
                        0,
                        MAX_ARTIFACT_TEXT_CHARS);
                if (!register.getSourceUrl().isEmpty()
                        && !register.getSourceUrl().matches("(?i)https?://\\S+")) {
                    throw malformed("artifact_register.source_url must be an http or https URL");
                }
                text(
                        "artifact_register.source_url",
                        register.getSourceUrl(),
                        0,
                        MAX_ARTIFACT_URL_CHARS);
                if (register.getSourceUrl().isEmpty() && !register.getHeld()) {
                    throw malformed(
                            "artifact_register.source_url is needed unless the member holds it");
                }
                references("artifact_register.references", register.getReferencesList());
                memberName("artifact_register.member", register.getMember());
                time("artifact_register.at_unix_ms", register.getAtUnixMs());
                nonNegative(
                        "artifact_register.take_over_fetch_started_unix_ms",
                        register.getTakeOverFetchStartedUnixMs());
            }
            case ARTIFACT_FETCHED -> {
                ArtifactFetchedRequest fetched = command.getArtifactFetched();
                artifactDigest("artifact_fetched.digest", fetched.getDigest());
                memberName("artifact_fetched.member", fetched.getMember());
                nonNegative("artifact_fetched.size", fetched.getSize());
                text(
                        "artifact_fetched.failure",
                        fetched.getFailure(),
                        0,
                        MAX_ARTIFACT_FAILURE_CHARS);
                time("artifact_fetched.at_unix_ms", fetched.getAtUnixMs());
            }
            case ARTIFACT_RELEASE -> {
                ArtifactReleaseRequest release = command.getArtifactRelease();
                artifactDigest("artifact_release.digest", release.getDigest());
                references("artifact_release.references", release.getReferencesList());
                time("artifact_release.at_unix_ms", release.getAtUnixMs());
            }
            case ARTIFACT_DELETE -> {
                artifactDigest("artifact_delete.digest", command.getArtifactDelete().getDigest());
                nonNegative(
                        "artifact_delete.unreferenced_since_unix_ms",
                        command.getArtifactDelete().getUnreferencedSinceUnixMs());
            }
            case ALARM_CHANGE ->
                    alarmType("alarm_change.alarm", command.getAlarmChange().getAlarm());
            case COMMAND_NOT_SET -> throw malformed("command is empty");
        }
    }

    /** An alarm that can be raised or cleared: NOSPACE or CORRUPT. */
    private static void alarmType(String field, AlarmType type) {
        if (type != AlarmType.NOSPACE && type != AlarmType.CORRUPT) {
            throw malformed(field + " must be NOSPACE or CORRUPT, got " + type);
        }
    }

    private static void artifactDigest(String field, String digest) {
        if (!ARTIFACT_DIGEST.matcher(digest).matches()) {
            throw malformed(
                    field
                            + " must be sha256: and 64 lower-case hex digits, got "
                            + shortened(digest));
        }
    }

    private static void references(String field, List<String> references) {
        if (references.size() > MAX_ARTIFACT_REFERENCES) {
            throw malformed(field + " holds more than " + MAX_ARTIFACT_REFERENCES + " references");
        }
        for (String reference : references) {
            text(field, reference, 1, MAX_ARTIFACT_TEXT_CHARS);
        }
    }

    private static void memberName(String field, String name) {
        if (!Peer.isValidId(name)) {
            throw malformed(field + " must be a member's node id, got " + shortened(name));
        }
    }

    private static void text(String field, String value, int min, int max) {
        if (value.length() < min || value.length() > max) {
            throw malformed(field + " must be " + min + " to " + max + " characters long");
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            throw malformed(field + " must not hold control characters");
        }
    }

    private static void nonNegative(String field, long value) {
        if (value < 0) {
            throw malformed(field + " must not be negative, got " + value);
        }
    }

    private static void time(String field, long unixMillis) {
        if (unixMillis <= 0) {
            throw malformed(
                    field + " must be a positive Unix time in milliseconds, got " + unixMillis);
        }
    }

    private static String shortened(String value) {
        return value.length() > 80 ? value.substring(0, 80) + "..." : value;
    }

    /** Empty names are left to apply, which answers them with etcd's own errors. */
    private static void authName(String field, String name) {
        if (name.length() > MAX_AUTH_NAME_CHARS) {
            throw malformed(field + " is longer than " + MAX_AUTH_NAME_CHARS + " characters");
        }
    }

    private static void passwordHash(String field, String hash) {
        if (hash.length() > MAX_PASSWORD_HASH_CHARS) {
            throw malformed(field + " is longer than " + MAX_PASSWORD_HASH_CHARS + " characters");
        }
    }

    private static void member(MemberRecord member) {
        if (member.getId() == 0) {
            throw malformed("member.id must not be 0");
        }
        if (!member.getName().isEmpty() && !Peer.isValidId(member.getName())) {
            throw malformed("member.name " + Peer.ID_RULE + ", got " + shortened(member.getName()));
        }
        if (member.getPeerUrlsCount() < 1 || member.getPeerUrlsCount() > MAX_MEMBER_URLS) {
            throw malformed("member.peer_urls must hold 1 to " + MAX_MEMBER_URLS + " URLs");
        }
        if (member.getClientUrlsCount() > MAX_MEMBER_URLS) {
            throw malformed("member.client_urls holds more than " + MAX_MEMBER_URLS + " URLs");
        }
        try {
            member.getPeerUrlsList().forEach(MemberUrls::address);
            member.getClientUrlsList().forEach(MemberUrls::address);
        } catch (IllegalArgumentException e) {
            throw malformed("member: " + e.getMessage());
        }
    }

    /**
     * @throws InvalidCommandException when the watched key or range end is too large
     */
    void validate(WatchSpec watch) {
        if (watch.key().size() > limits.maxKeyBytes()) {
            throw new InvalidCommandException(
                    Reason.KEY_TOO_LARGE,
                    "watch key is " + watch.key().size() + " bytes, limit " + limits.maxKeyBytes());
        }
        rangeEnd("watch range_end", watch.rangeEnd());
    }

    /**
     * @throws InvalidCommandException naming the first problem found
     */
    void validate(Query query) {
        if (query.getSerializedSize() > limits.maxRequestBytes()) {
            throw new InvalidCommandException(
                    Reason.REQUEST_TOO_LARGE,
                    "request is too large: "
                            + query.getSerializedSize()
                            + " bytes, limit "
                            + limits.maxRequestBytes());
        }
        switch (query.getQueryCase()) {
            case RANGE -> range(query.getRange());
            case LEASE_TIME_TO_LIVE ->
                    leaseId("lease_time_to_live.id", query.getLeaseTimeToLive().getId());
            case LEASE_LEASES, MEMBER_LIST, AUTH_STATUS, USER_LIST, ROLE_LIST -> {}
            case ARTIFACT_LIST -> {}
            case ARTIFACT_GET ->
                    artifactDigest("artifact_get.digest", query.getArtifactGet().getDigest());
            case USER_GET -> authName("user_get.name", query.getUserGet().getName());
            case ROLE_GET -> authName("role_get.role", query.getRoleGet().getRole());
            case ALARM_LIST -> {
                if (query.getAlarmList().getAlarm() == AlarmType.UNRECOGNIZED) {
                    throw malformed("alarm_list.alarm is unknown");
                }
            }
            case QUERY_NOT_SET -> throw malformed("query is empty");
        }
    }

    private void put(PutRequest put) {
        key("put.key", put.getKey());
        if (put.getValue().size() > limits.maxValueBytes()) {
            throw new InvalidCommandException(
                    Reason.VALUE_TOO_LARGE,
                    "put.value is "
                            + put.getValue().size()
                            + " bytes, limit "
                            + limits.maxValueBytes());
        }
        if (put.getIgnoreValue() && !put.getValue().isEmpty()) {
            throw new InvalidCommandException(
                    Reason.VALUE_PROVIDED, "put.value must be empty when ignore_value is set");
        }
        if (put.getIgnoreLease() && put.getLease() != 0) {
            throw new InvalidCommandException(
                    Reason.LEASE_PROVIDED, "put.lease must be 0 when ignore_lease is set");
        }
        if (put.getLease() < 0) {
            throw malformed("put.lease must not be negative, got " + put.getLease());
        }
    }

    private void deleteRange(DeleteRangeRequest delete) {
        key("delete_range.key", delete.getKey());
        rangeEnd("delete_range.range_end", delete.getRangeEnd());
    }

    private void range(RangeRequest range) {
        key("range.key", range.getKey());
        rangeEnd("range.range_end", range.getRangeEnd());
        // Negative numbers are etcd's to interpret: a limit means none, a revision the latest,
        // a filter bound compares as it is.
        if (range.getSortOrder() == RangeRequest.SortOrder.UNRECOGNIZED) {
            throw malformed("range.sort_order has an unknown value " + range.getSortOrderValue());
        }
        if (range.getSortTarget() == RangeRequest.SortTarget.UNRECOGNIZED) {
            throw malformed("range.sort_target has an unknown value " + range.getSortTargetValue());
        }
    }

    private void txn(TxnRequest txn, int depth) {
        if (depth > MAX_TXN_DEPTH) {
            throw malformed("transactions nest deeper than " + MAX_TXN_DEPTH + " levels");
        }
        opCount("txn.compare", txn.getCompareCount());
        opCount("txn.success", txn.getSuccessCount());
        opCount("txn.failure", txn.getFailureCount());
        for (Compare compare : txn.getCompareList()) {
            compare(compare);
        }
        for (RequestOp op : txn.getSuccessList()) {
            op(op, depth);
        }
        for (RequestOp op : txn.getFailureList()) {
            op(op, depth);
        }
        writes(txn.getSuccessList());
        writes(txn.getFailureList());
    }

    private void op(RequestOp op, int depth) {
        switch (op.getRequestCase()) {
            case REQUEST_RANGE -> range(op.getRequestRange());
            case REQUEST_PUT -> put(op.getRequestPut());
            case REQUEST_DELETE_RANGE -> deleteRange(op.getRequestDeleteRange());
            case REQUEST_TXN -> txn(op.getRequestTxn(), depth + 1);
            case REQUEST_NOT_SET -> throw malformed("txn operation is empty");
        }
    }

    private void compare(Compare compare) {
        key("compare.key", compare.getKey());
        rangeEnd("compare.range_end", compare.getRangeEnd());
        if (compare.getResult() == Compare.CompareResult.UNRECOGNIZED) {
            throw malformed("compare.result has an unknown value " + compare.getResultValue());
        }
        Compare.TargetUnionCase expected =
                switch (compare.getTarget()) {
                    case VERSION -> Compare.TargetUnionCase.VERSION;
                    case CREATE -> Compare.TargetUnionCase.CREATE_REVISION;
                    case MOD -> Compare.TargetUnionCase.MOD_REVISION;
                    case VALUE -> Compare.TargetUnionCase.VALUE;
                    case LEASE -> Compare.TargetUnionCase.LEASE;
                    case UNRECOGNIZED ->
                            throw malformed(
                                    "compare.target has an unknown value "
                                            + compare.getTargetValue());
                };
        Compare.TargetUnionCase given = compare.getTargetUnionCase();
        if (given != Compare.TargetUnionCase.TARGETUNION_NOT_SET && given != expected) {
            throw malformed(
                    "compare.target is "
                            + compare.getTarget()
                            + " but the compared field is "
                            + given);
        }
    }

    /**
     * etcd's rule: within one branch a key is put at most once, and never both put and deleted. A
     * nested transaction contributes the writes of both its branches, each checked on its own.
     */
    private WriteSet writes(List<RequestOp> ops) {
        WriteSet set = new WriteSet();
        for (RequestOp op : ops) {
            switch (op.getRequestCase()) {
                case REQUEST_PUT -> set.put(op.getRequestPut().getKey());
                case REQUEST_DELETE_RANGE ->
                        set.delete(
                                op.getRequestDeleteRange().getKey(),
                                op.getRequestDeleteRange().getRangeEnd());
                case REQUEST_TXN -> {
                    WriteSet success = writes(op.getRequestTxn().getSuccessList());
                    WriteSet failure = writes(op.getRequestTxn().getFailureList());
                    set.merge(success.union(failure));
                }
                default -> {}
            }
        }
        return set;
    }

    private static final class WriteSet {
        private final Set<ByteString> puts = new HashSet<>();
        private final List<ByteString[]> deletes = new ArrayList<>();

        void put(ByteString key) {
            if (!puts.add(key)) {
                throw duplicate(key);
            }
            for (ByteString[] range : deletes) {
                if (MvccStore.inRange(key, range[0], range[1])) {
                    throw duplicate(key);
                }
            }
        }

        void delete(ByteString key, ByteString end) {
            for (ByteString put : puts) {
                if (MvccStore.inRange(put, key, end)) {
                    throw duplicate(put);
                }
            }
            deletes.add(new ByteString[] {key, end});
        }

        void merge(WriteSet other) {
            for (ByteString[] range : other.deletes) {
                delete(range[0], range[1]);
            }
            for (ByteString key : other.puts) {
                put(key);
            }
        }

        /** Both branches of one transaction: only one of them runs, so they may overlap. */
        WriteSet union(WriteSet other) {
            WriteSet both = new WriteSet();
            both.puts.addAll(puts);
            both.puts.addAll(other.puts);
            both.deletes.addAll(deletes);
            both.deletes.addAll(other.deletes);
            return both;
        }

        private static InvalidCommandException duplicate(ByteString key) {
            return new InvalidCommandException(
                    Reason.DUPLICATE_KEY,
                    "key "
                            + printable(key)
                            + " is written more than once in one transaction branch");
        }
    }

    private void key(String field, ByteString key) {
        if (key.isEmpty()) {
            throw new InvalidCommandException(Reason.EMPTY_KEY, field + " is not provided");
        }
        if (key.size() > limits.maxKeyBytes()) {
            throw new InvalidCommandException(
                    Reason.KEY_TOO_LARGE,
                    field + " is " + key.size() + " bytes, limit " + limits.maxKeyBytes());
        }
    }

    private void rangeEnd(String field, ByteString end) {
        if (end.size() > limits.maxKeyBytes()) {
            throw new InvalidCommandException(
                    Reason.KEY_TOO_LARGE,
                    field + " is " + end.size() + " bytes, limit " + limits.maxKeyBytes());
        }
    }

    private void opCount(String field, int count) {
        if (count > limits.maxTxnOps()) {
            throw new InvalidCommandException(
                    Reason.TOO_MANY_OPS,
                    field + " has " + count + " operations, limit " + limits.maxTxnOps());
        }
    }

    private static void leaseId(String field, long id) {
        if (id <= 0) {
            throw malformed(field + " must be positive, got " + id);
        }
    }

    private static InvalidCommandException malformed(String message) {
        return new InvalidCommandException(Reason.MALFORMED, message);
    }

    /** A key for an error message: UTF-8 when it is printable, else hex; cut at 64 bytes. */
    static String printable(ByteString key) {
        ByteString shown = key.size() > 64 ? key.substring(0, 64) : key;
        String text = shown.toStringUtf8();
        boolean printable =
                shown.isValidUtf8() && text.chars().allMatch(c -> c >= 0x20 && c != 0x7f);
        String body =
                printable
                        ? "\"" + text + "\""
                        : "0x" + java.util.HexFormat.of().formatHex(shown.toByteArray());
        return key.size() > 64 ? body + "..." : body;
    }
}
