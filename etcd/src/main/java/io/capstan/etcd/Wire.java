package io.capstan.etcd;

import com.google.protobuf.DiscardUnknownFieldsParser;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;

/**
 * Moves messages between etcd's API protobufs and the Raft module's, whose field numbers and types
 * agree wherever the two overlap (the Raft messages reserve the numbers of etcd's response header
 * and of {@code serializable}). Conversion re-reads one message's encoding as the other:
 *
 * <ul>
 *   <li>etcd to Raft drops every field the Raft message does not know, recursively, so nothing but
 *       what the Raft layer validates reaches its log (etcd's {@code serializable}, {@code
 *       physical}, and whatever unknown fields a newer client sent);
 *   <li>Raft to etcd merges into an etcd builder, which the caller completes with its header.
 * </ul>
 *
 * {@code WireAgreementTest} pins the agreement this relies on. Stateless.
 */
final class Wire {

    private Wire() {}

    /**
     * {@code etcd} as the Raft message {@code parser} reads, without fields the Raft side lacks.
     */
    static <T extends Message> T toRaft(MessageLite etcd, Parser<T> parser) {
        try {
            return DiscardUnknownFieldsParser.wrap(parser).parseFrom(etcd.toByteString());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(
                    "etcd and Raft messages disagree on the wire: " + e.getMessage(), e);
        }
    }

    /** {@code raft} merged into {@code etcd}. */
    static <B extends Message.Builder> B toEtcd(MessageLite raft, B etcd) {
        try {
            etcd.mergeFrom(raft.toByteString());
            return etcd;
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(
                    "Raft and etcd messages disagree on the wire: " + e.getMessage(), e);
        }
    }
}
