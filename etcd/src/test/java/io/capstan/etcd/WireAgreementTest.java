package io.capstan.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.UnknownFieldSet;
import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.DeleteRangeRequest;
import io.capstan.etcd.api.DeleteRangeResponse;
import io.capstan.etcd.api.LeaseGrantResponse;
import io.capstan.etcd.api.LeaseKeepAliveResponse;
import io.capstan.etcd.api.LeaseTimeToLiveResponse;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.PutResponse;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.capstan.etcd.api.TxnResponse;
import io.capstan.raft.proto.KeyValue;
import io.capstan.raft.proto.ResponseOp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Wire} converts between etcd's messages and the Raft module's by re-reading one's encoding
 * as the other. That is right only while every field the two share has the same number, type,
 * cardinality and oneof, recursively, and etcd's extra fields are the known few the Raft side
 * leaves out on purpose. This pins both, and shows what conversion keeps and drops.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WireAgreementTest {

    /** etcd fields with no Raft counterpart: headers are added by the API, the rest ignored. */
    private static final Set<String> ETCD_ONLY =
            Set.of(
                    "etcdserverpb.RangeRequest.serializable",
                    "etcdserverpb.CompactionRequest.physical",
                    "etcdserverpb.LeaseGrantResponse.error",
                    "etcdserverpb.RangeResponse.header",
                    "etcdserverpb.PutResponse.header",
                    "etcdserverpb.DeleteRangeResponse.header",
                    "etcdserverpb.TxnResponse.header",
                    "etcdserverpb.LeaseGrantResponse.header",
                    "etcdserverpb.LeaseKeepAliveResponse.header",
                    "etcdserverpb.LeaseTimeToLiveResponse.header");

    private final List<String> problems = new ArrayList<>();
    private final Set<String> etcdOnlySeen = new TreeSet<>();

    /** Messages compared already: transactions nest, so the walk meets them again. */
    private final Set<String> compared = new HashSet<>();

    @Test
    void everyConvertedMessageAgreesFieldByField() {
        pair(RangeRequest.getDescriptor(), io.capstan.raft.proto.RangeRequest.getDescriptor());
        pair(RangeResponse.getDescriptor(), io.capstan.raft.proto.RangeResponse.getDescriptor());
        pair(PutRequest.getDescriptor(), io.capstan.raft.proto.PutRequest.getDescriptor());
        pair(PutResponse.getDescriptor(), io.capstan.raft.proto.PutResponse.getDescriptor());
        pair(
                DeleteRangeRequest.getDescriptor(),
                io.capstan.raft.proto.DeleteRangeRequest.getDescriptor());
        pair(
                DeleteRangeResponse.getDescriptor(),
                io.capstan.raft.proto.DeleteRangeResponse.getDescriptor());
        pair(TxnRequest.getDescriptor(), io.capstan.raft.proto.TxnRequest.getDescriptor());
        pair(TxnResponse.getDescriptor(), io.capstan.raft.proto.TxnResponse.getDescriptor());
        pair(
                CompactionRequest.getDescriptor(),
                io.capstan.raft.proto.CompactionRequest.getDescriptor());
        pair(
                LeaseGrantResponse.getDescriptor(),
                io.capstan.raft.proto.LeaseGrantResponse.getDescriptor());
        pair(
                LeaseKeepAliveResponse.getDescriptor(),
                io.capstan.raft.proto.LeaseKeepAliveResponse.getDescriptor());
        pair(
                LeaseTimeToLiveResponse.getDescriptor(),
                io.capstan.raft.proto.LeaseTimeToLiveResponse.getDescriptor());

        assertEquals(List.of(), problems);
        assertEquals(new TreeSet<>(ETCD_ONLY), etcdOnlySeen, "etcd-only fields");
    }

    @Test
    void etcdToRaftDropsWhatTheLogMustNotCarry() {
        UnknownFieldSet fromNewerClient =
                UnknownFieldSet.newBuilder()
                        .addField(99, UnknownFieldSet.Field.newBuilder().addVarint(7).build())
                        .build();
        RangeRequest nested =
                RangeRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8("a"))
                        .setSerializable(true)
                        .setLimit(3)
                        .setUnknownFields(fromNewerClient)
                        .build();
        TxnRequest txn =
                TxnRequest.newBuilder()
                        .addSuccess(RequestOp.newBuilder().setRequestRange(nested))
                        .setUnknownFields(fromNewerClient)
                        .build();

        io.capstan.raft.proto.TxnRequest converted =
                Wire.toRaft(txn, io.capstan.raft.proto.TxnRequest.parser());

        io.capstan.raft.proto.RangeRequest range = converted.getSuccess(0).getRequestRange();
        assertEquals("a", range.getKey().toStringUtf8());
        assertEquals(3, range.getLimit());
        assertTrue(converted.getUnknownFields().asMap().isEmpty());
        assertTrue(
                range.getUnknownFields().asMap().isEmpty(),
                "serializable and unknown fields are dropped");
    }

    @Test
    void raftToEtcdKeepsEveryValue() {
        KeyValue kv =
                KeyValue.newBuilder()
                        .setKey(ByteString.copyFromUtf8("k"))
                        .setValue(ByteString.copyFromUtf8("v"))
                        .setCreateRevision(2)
                        .setModRevision(5)
                        .setVersion(3)
                        .setLease(9)
                        .build();
        io.capstan.raft.proto.TxnResponse raft =
                io.capstan.raft.proto.TxnResponse.newBuilder()
                        .setSucceeded(true)
                        .addResponses(
                                ResponseOp.newBuilder()
                                        .setResponseRange(
                                                io.capstan.raft.proto.RangeResponse.newBuilder()
                                                        .addKvs(kv)
                                                        .setCount(4)
                                                        .setMore(true)))
                        .build();

        TxnResponse etcd = Wire.toEtcd(raft, TxnResponse.newBuilder()).build();

        assertTrue(etcd.getSucceeded());
        RangeResponse range = etcd.getResponses(0).getResponseRange();
        assertEquals(4, range.getCount());
        assertTrue(range.getMore());
        io.capstan.etcd.api.mvcc.KeyValue read = range.getKvs(0);
        assertEquals("k", read.getKey().toStringUtf8());
        assertEquals("v", read.getValue().toStringUtf8());
        assertEquals(
                List.of(2L, 5L, 3L, 9L),
                List.of(
                        read.getCreateRevision(),
                        read.getModRevision(),
                        read.getVersion(),
                        read.getLease()));
        assertFalse(etcd.hasHeader());
    }

    private void pair(Descriptor etcd, Descriptor raft) {
        if (!compared.add(etcd.getFullName() + "=" + raft.getFullName())) {
            return;
        }
        for (FieldDescriptor raftField : raft.getFields()) {
            FieldDescriptor etcdField = etcd.findFieldByNumber(raftField.getNumber());
            if (etcdField == null) {
                problems.add(
                        raftField.getFullName()
                                + " has no etcd field numbered "
                                + raftField.getNumber());
                continue;
            }
            if (!sameName(etcdField, raftField)) {
                problems.add(
                        raftField.getFullName()
                                + " is #"
                                + raftField.getNumber()
                                + ", etcd's #"
                                + etcdField.getNumber()
                                + " is "
                                + etcdField.getName());
            }
            if (!shape(etcdField).equals(shape(raftField))) {
                problems.add(
                        raftField.getFullName()
                                + ": raft "
                                + shape(raftField)
                                + ", etcd "
                                + shape(etcdField));
                continue;
            }
            if (raftField.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                pair(etcdField.getMessageType(), raftField.getMessageType());
            } else if (raftField.getJavaType() == FieldDescriptor.JavaType.ENUM) {
                sameEnum(etcdField.getEnumType(), raftField.getEnumType());
            }
        }
        for (FieldDescriptor etcdField : etcd.getFields()) {
            if (raft.findFieldByNumber(etcdField.getNumber()) == null) {
                etcdOnlySeen.add(etcdField.getFullName());
            }
        }
    }

    private void sameEnum(EnumDescriptor etcd, EnumDescriptor raft) {
        for (EnumValueDescriptor value : raft.getValues()) {
            EnumValueDescriptor other = etcd.findValueByNumber(value.getNumber());
            if (other == null || !other.getName().equals(value.getName())) {
                problems.add(
                        raft.getFullName()
                                + "."
                                + value.getName()
                                + " is "
                                + value.getNumber()
                                + ", etcd has "
                                + (other == null ? "nothing" : other.getName())
                                + " there");
            }
        }
        if (etcd.getValues().size() != raft.getValues().size()) {
            problems.add(
                    raft.getFullName()
                            + " has "
                            + raft.getValues().size()
                            + " values, etcd "
                            + etcd.getValues().size());
        }
    }

    /** etcd spells some names in capitals (ID, TTL, grantedTTL); the Raft protos use snake case. */
    private static boolean sameName(FieldDescriptor etcd, FieldDescriptor raft) {
        return etcd.getName()
                .replace("_", "")
                .toLowerCase(Locale.ROOT)
                .equals(raft.getName().replace("_", "").toLowerCase(Locale.ROOT));
    }

    private static String shape(FieldDescriptor field) {
        String oneof =
                field.getRealContainingOneof() == null
                        ? ""
                        : " oneof " + field.getRealContainingOneof().getName();
        return field.getType()
                + (field.isRepeated() ? " repeated" : "")
                + (field.isPacked() ? " packed" : "")
                + oneof;
    }
}
