package io.capstan.raft;

import io.capstan.raft.proto.AlarmChangeRequest;
import io.capstan.raft.proto.AlarmChangeResponse;
import io.capstan.raft.proto.AlarmMember;
import io.capstan.raft.proto.AlarmType;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.Failure;
import io.capstan.raft.proto.RequestOp;
import io.capstan.raft.proto.TxnRequest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * etcd's alarms, kept in the replicated store so every member reports the same ones: raising and
 * clearing them, listing them, and the cap that a raised NOSPACE alarm puts on writes (etcd's
 * "capped" applier): puts, transactions with a put in either branch (at any depth) and lease grants
 * are refused with {@link Failure.Code#NO_SPACE}, on every replica alike; deletes, compactions,
 * lease revokes and the rest go on, so that room can be made.
 *
 * <p>Threading: {@link #change} and {@link #checkCapped} on the apply thread; {@link #list} and
 * {@link #addsData} on any.
 */
public final class AlarmCommands {
    static final String NO_SPACE_MESSAGE = "mvcc: database space exceeded";

    private static final Comparator<AlarmMember> ORDER =
            Comparator.comparing(AlarmMember::getMemberId, Long::compareUnsigned)
                    .thenComparingInt(AlarmMember::getAlarmValue);

    private AlarmCommands() {}

    /**
     * As etcd: an activation answers the alarm (raised now or already); a deactivation, the one
     * cleared.
     */
    static AlarmChangeResponse change(MvccStore store, AlarmChangeRequest request) {
        AlarmMember alarm =
                AlarmMember.newBuilder()
                        .setMemberId(request.getMemberId())
                        .setAlarm(request.getAlarm())
                        .build();
        List<AlarmMember> alarms = new ArrayList<>(store.alarms());
        boolean present = alarms.contains(alarm);
        AlarmChangeResponse.Builder response = AlarmChangeResponse.newBuilder();
        if (request.getActivate()) {
            if (!present) {
                alarms.add(alarm);
                alarms.sort(ORDER);
                store.setAlarms(List.copyOf(alarms));
            }
            response.addAlarms(alarm);
        } else if (present) {
            alarms.remove(alarm);
            store.setAlarms(List.copyOf(alarms));
            response.addAlarms(alarm);
        }
        return response.build();
    }

    /** The raised alarms of type {@code type}, or all of them for {@link AlarmType#NONE}. */
    static List<AlarmMember> list(MvccStore store, AlarmType type) {
        return store.alarms().stream()
                .filter(alarm -> type == AlarmType.NONE || alarm.getAlarm() == type)
                .toList();
    }

    /**
     * Whether {@code command} is one that a raised NOSPACE alarm refuses: a put, a transaction with
     * a put in either branch (at any depth), a lease grant.
     */
    public static boolean addsData(Command command) {
        return switch (command.getCommandCase()) {
            case PUT, LEASE_GRANT -> true;
            case TXN -> puts(command.getTxn());
            default -> false;
        };
    }

    /**
     * @throws KeyspaceException NO_SPACE when {@code command} adds data while NOSPACE is raised
     */
    static void checkCapped(MvccStore store, Command command) {
        if (addsData(command) && !list(store, AlarmType.NOSPACE).isEmpty()) {
            throw KeyspaceException.of(Failure.Code.NO_SPACE, NO_SPACE_MESSAGE);
        }
    }

    private static boolean puts(TxnRequest txn) {
        for (List<RequestOp> branch : List.of(txn.getSuccessList(), txn.getFailureList())) {
            for (RequestOp op : branch) {
                if (op.hasRequestPut() || (op.hasRequestTxn() && puts(op.getRequestTxn()))) {
                    return true;
                }
            }
        }
        return false;
    }
}
