package io.capstan.etcd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.capstan.etcd.EtcdCluster.Role;
import io.capstan.etcd.api.CompactionRequest;
import io.capstan.etcd.api.CompactionResponse;
import io.capstan.etcd.api.Compare;
import io.capstan.etcd.api.KVGrpc;
import io.capstan.etcd.api.LeaseGrantRequest;
import io.capstan.etcd.api.LeaseGrpc;
import io.capstan.etcd.api.PutRequest;
import io.capstan.etcd.api.RangeRequest;
import io.capstan.etcd.api.RangeResponse;
import io.capstan.etcd.api.RequestOp;
import io.capstan.etcd.api.TxnRequest;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Response;
import io.etcd.jetcd.kv.DeleteResponse;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * etcd's KV service through jetcd, the oracle client, against the leader and against a follower
 * (which forwards writes and reads through ReadIndex). Options jetcd cannot send (ignore_value,
 * ignore_lease, the LEASE compare target) go through a plain gRPC stub of etcd's protos.
 */
@ExtendWith(EtcdClusterExtension.class)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class KvApiTest {

    @ParameterizedTest
    @EnumSource(Role.class)
    void putAndGetCarryEtcdsHeaderAndRevisions(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        KV kv = cluster.jetcd(member).getKVClient();
        String key = "kv/header/" + role;

        PutResponse first = get(kv.put(bytes(key), bytes("one")));
        Response.Header header = first.getHeader();
        assertEquals(cluster.clusterId(), header.getClusterId());
        assertEquals(cluster.memberId(member), header.getMemberId());
        assertTrue(
                header.getRaftTerm() >= 1
                        && header.getRaftTerm() <= cluster.node(member).status().term(),
                "raft term " + header.getRaftTerm());
        long created = header.getRevision();
        assertTrue(created > 0);
        assertFalse(first.hasPrevKv());

        PutResponse second =
                get(kv.put(bytes(key), bytes("two"), PutOption.builder().withPrevKV().build()));
        assertEquals(created + 1, second.getHeader().getRevision());
        assertTrue(second.hasPrevKv());
        assertEquals("one", text(second.getPrevKv().getValue()));
        assertEquals(created, second.getPrevKv().getModRevision());

        GetResponse read = get(kv.get(bytes(key)));
        assertEquals(1, read.getCount());
        KeyValue kv1 = read.getKvs().get(0);
        assertEquals("two", text(kv1.getValue()));
        assertEquals(created, kv1.getCreateRevision());
        assertEquals(created + 1, kv1.getModRevision());
        assertEquals(2, kv1.getVersion());
        assertTrue(read.getHeader().getRevision() >= created + 1);
        assertEquals(cluster.memberId(member), read.getHeader().getMemberId());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void rangeHonoursEveryOption(Role role, EtcdCluster cluster) throws Exception {
        int member = cluster.member(role);
        KV kv = cluster.jetcd(member).getKVClient();
        String prefix = "kv/range/" + role + "/";
        long[] created = new long[5];
        for (int i = 0; i < 5; i++) {
            created[i] =
                    get(kv.put(bytes(prefix + (char) ('a' + i)), bytes("v" + i)))
                            .getHeader()
                            .getRevision();
        }
        // b is rewritten last, so it has the highest mod revision and the others keep theirs.
        long rewritten =
                get(kv.put(bytes(prefix + "b"), bytes("v1-new"))).getHeader().getRevision();

        GetResponse all = get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()));
        assertEquals(List.of("a", "b", "c", "d", "e"), names(all, prefix));
        assertEquals(5, all.getCount());
        assertFalse(all.isMore());

        GetResponse fromKey =
                get(
                        kv.get(
                                bytes(prefix + "c"),
                                GetOption.builder()
                                        .withRange(ByteSequence.from(new byte[] {0}))
                                        .build()));
        assertEquals(List.of("c", "d", "e"), names(fromKey, prefix).subList(0, 3));

        GetResponse between =
                get(
                        kv.get(
                                bytes(prefix + "b"),
                                GetOption.builder().withRange(bytes(prefix + "d")).build()));
        assertEquals(List.of("b", "c"), names(between, prefix));

        GetResponse limited =
                get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).withLimit(2).build()));
        assertEquals(List.of("a", "b"), names(limited, prefix));
        assertTrue(limited.isMore());
        assertEquals(5, limited.getCount());

        GetResponse old =
                get(
                        kv.get(
                                bytes(prefix + "b"),
                                GetOption.builder().withRevision(created[1]).build()));
        assertEquals("v1", text(old.getKvs().get(0).getValue()));

        GetResponse descending =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder()
                                        .isPrefix(true)
                                        .withSortOrder(GetOption.SortOrder.DESCEND)
                                        .withSortField(GetOption.SortTarget.KEY)
                                        .build()));
        assertEquals(List.of("e", "d", "c", "b", "a"), names(descending, prefix));
        GetResponse byMod =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder()
                                        .isPrefix(true)
                                        .withSortOrder(GetOption.SortOrder.ASCEND)
                                        .withSortField(GetOption.SortTarget.MOD)
                                        .build()));
        assertEquals(List.of("a", "c", "d", "e", "b"), names(byMod, prefix));

        await().atMost(EtcdCluster.WAIT)
                .until(
                        () ->
                                get(
                                                kv.get(
                                                        bytes(prefix + "b"),
                                                        GetOption.builder()
                                                                .withSerializable(true)
                                                                .build()))
                                        .getKvs()
                                        .stream()
                                        .anyMatch(
                                                found -> text(found.getValue()).equals("v1-new")));

        GetResponse keysOnly =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder().isPrefix(true).withKeysOnly(true).build()));
        assertEquals(5, keysOnly.getKvs().size());
        assertTrue(keysOnly.getKvs().stream().allMatch(found -> found.getValue().isEmpty()));

        GetResponse countOnly =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder().isPrefix(true).withCountOnly(true).build()));
        assertEquals(5, countOnly.getCount());
        assertTrue(countOnly.getKvs().isEmpty());

        GetResponse modifiedAfterC =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder()
                                        .isPrefix(true)
                                        .withMinModRevision(created[2] + 1)
                                        .build()));
        assertEquals(List.of("b", "d", "e"), names(modifiedAfterC, prefix));
        GetResponse modifiedUpToC =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder()
                                        .isPrefix(true)
                                        .withMaxModRevision(created[2])
                                        .build()));
        assertEquals(List.of("a", "c"), names(modifiedUpToC, prefix));
        GetResponse createdFromB =
                get(
                        kv.get(
                                bytes(prefix),
                                GetOption.builder()
                                        .isPrefix(true)
                                        .withMinCreateRevision(created[1])
                                        .withMaxCreateRevision(created[3])
                                        .build()));
        assertEquals(List.of("b", "c", "d"), names(createdFromB, prefix));
        assertTrue(rewritten > created[4]);
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void deleteRangeReturnsWhatItDeleted(Role role, EtcdCluster cluster) throws Exception {
        KV kv = cluster.jetcd(cluster.member(role)).getKVClient();
        String prefix = "kv/delete/" + role + "/";
        for (String name : List.of("x", "y", "z")) {
            get(kv.put(bytes(prefix + name), bytes("value-" + name)));
        }

        DeleteResponse deleted =
                get(
                        kv.delete(
                                bytes(prefix),
                                DeleteOption.builder().isPrefix(true).withPrevKV(true).build()));
        assertEquals(3, deleted.getDeleted());
        assertEquals(
                List.of("value-x", "value-y", "value-z"),
                deleted.getPrevKvs().stream().map(found -> text(found.getValue())).toList());
        assertEquals(
                0,
                get(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build())).getCount());

        DeleteResponse nothing = get(kv.delete(bytes(prefix + "x")));
        assertEquals(0, nothing.getDeleted());
        assertEquals(
                deleted.getHeader().getRevision(),
                nothing.getHeader().getRevision(),
                "deleting nothing does not advance the revision");
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void txnComparesEveryTargetAndRunsOneBranch(Role role, EtcdCluster cluster) throws Exception {
        KV kv = cluster.jetcd(cluster.member(role)).getKVClient();
        String prefix = "kv/txn/" + role + "/";
        ByteSequence key = bytes(prefix + "k");
        long created = get(kv.put(key, bytes("v1"))).getHeader().getRevision();
        long modified = get(kv.put(key, bytes("v2"))).getHeader().getRevision();

        TxnResponse taken =
                get(
                        kv.txn()
                                .If(
                                        new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(2)),
                                        new Cmp(
                                                key,
                                                Cmp.Op.EQUAL,
                                                CmpTarget.createRevision(created)),
                                        new Cmp(
                                                key,
                                                Cmp.Op.GREATER,
                                                CmpTarget.modRevision(created)),
                                        new Cmp(
                                                key,
                                                Cmp.Op.LESS,
                                                CmpTarget.modRevision(modified + 1)),
                                        new Cmp(
                                                key,
                                                Cmp.Op.NOT_EQUAL,
                                                CmpTarget.value(bytes("v1"))))
                                .Then(
                                        Op.put(
                                                bytes(prefix + "then"),
                                                bytes("yes"),
                                                PutOption.DEFAULT),
                                        Op.get(key, GetOption.DEFAULT),
                                        Op.txn(
                                                new Cmp[] {
                                                    new Cmp(
                                                            key,
                                                            Cmp.Op.EQUAL,
                                                            CmpTarget.value(bytes("v2")))
                                                },
                                                new Op[] {
                                                    Op.put(
                                                            bytes(prefix + "nested"),
                                                            bytes("inner"),
                                                            PutOption.DEFAULT)
                                                },
                                                new Op[] {}))
                                .Else(
                                        Op.put(
                                                bytes(prefix + "else"),
                                                bytes("no"),
                                                PutOption.DEFAULT))
                                .commit());
        assertTrue(taken.isSucceeded());
        assertEquals(
                modified + 1,
                taken.getHeader().getRevision(),
                "one revision for the whole transaction");
        assertEquals("v2", text(taken.getGetResponses().get(0).getKvs().get(0).getValue()));
        assertEquals(1, taken.getPutResponses().size());
        assertTrue(taken.getTxnResponses().get(0).isSucceeded());
        assertEquals("inner", value(kv, prefix + "nested"));
        assertEquals("yes", value(kv, prefix + "then"));

        TxnResponse refused =
                get(
                        kv.txn()
                                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(bytes("v1"))))
                                .Then(
                                        Op.put(
                                                bytes(prefix + "then"),
                                                bytes("again"),
                                                PutOption.DEFAULT))
                                .Else(
                                        Op.delete(
                                                bytes(prefix + "then"),
                                                DeleteOption.builder().withPrevKV(true).build()))
                                .commit());
        assertFalse(refused.isSucceeded());
        assertEquals(
                "yes", text(refused.getDeleteResponses().get(0).getPrevKvs().get(0).getValue()));
        assertEquals(0, get(kv.get(bytes(prefix + "then"))).getCount());
        assertEquals(0, get(kv.get(bytes(prefix + "else"))).getCount());
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void txnOperationsCarryTheRevisionEachSaw(Role role, EtcdCluster cluster) throws Exception {
        KV kv = cluster.jetcd(cluster.member(role)).getKVClient();
        String prefix = "kv/txn-headers/" + role + "/";
        get(kv.put(bytes(prefix + "a"), bytes("1")));

        TxnResponse txn =
                get(
                        kv.txn()
                                .Then(
                                        Op.get(bytes(prefix + "a"), GetOption.DEFAULT),
                                        Op.delete(bytes(prefix + "missing"), DeleteOption.DEFAULT),
                                        Op.put(bytes(prefix + "b"), bytes("2"), PutOption.DEFAULT),
                                        Op.get(bytes(prefix + "b"), GetOption.DEFAULT),
                                        Op.txn(
                                                new Cmp[] {},
                                                new Op[] {
                                                    Op.put(
                                                            bytes(prefix + "c"),
                                                            bytes("3"),
                                                            PutOption.DEFAULT)
                                                },
                                                new Op[] {}))
                                .commit());

        long revision = txn.getHeader().getRevision();
        assertEquals(
                List.of(revision - 1, revision),
                txn.getGetResponses().stream()
                        .map(response -> response.getHeader().getRevision())
                        .toList(),
                "a range sees the writes before it");
        assertEquals(
                revision - 1,
                txn.getDeleteResponses().get(0).getHeader().getRevision(),
                "a delete of nothing before any write sees the revision before the transaction");
        assertEquals(revision, txn.getPutResponses().get(0).getHeader().getRevision());
        TxnResponse nested = txn.getTxnResponses().get(0);
        assertEquals(
                0,
                nested.getHeader().getRevision(),
                "a nested transaction's header is empty, as in etcd");
        assertEquals(revision, nested.getPutResponses().get(0).getHeader().getRevision());

        TxnResponse readOnly =
                get(kv.txn().Then(Op.get(bytes(prefix + "a"), GetOption.DEFAULT)).commit());
        assertEquals(
                readOnly.getHeader().getRevision(),
                readOnly.getGetResponses().get(0).getHeader().getRevision());
        assertTrue(readOnly.getHeader().getRevision() >= revision);
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void putOptionsAndTheLeaseCompareJetcdCannotSend(Role role, EtcdCluster cluster) {
        int member = cluster.member(role);
        KVGrpc.KVBlockingStub kv =
                KVGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        long lease =
                LeaseGrpc.newBlockingStub(cluster.channel(member))
                        .withDeadlineAfter(30, TimeUnit.SECONDS)
                        .leaseGrant(LeaseGrantRequest.newBuilder().setTTL(600).build())
                        .getID();
        ByteString key = ByteString.copyFromUtf8("kv/options/" + role);

        kv.put(
                PutRequest.newBuilder()
                        .setKey(key)
                        .setValue(ByteString.copyFromUtf8("first"))
                        .setLease(lease)
                        .build());
        kv.put(
                PutRequest.newBuilder()
                        .setKey(key)
                        .setValue(ByteString.copyFromUtf8("second"))
                        .setIgnoreLease(true)
                        .build());
        io.capstan.etcd.api.mvcc.KeyValue kept = read(kv, key);
        assertEquals("second", kept.getValue().toStringUtf8());
        assertEquals(lease, kept.getLease(), "ignore_lease keeps the lease");

        var withoutLease =
                kv.put(
                        PutRequest.newBuilder()
                                .setKey(key)
                                .setIgnoreValue(true)
                                .setPrevKv(true)
                                .build());
        assertEquals(lease, withoutLease.getPrevKv().getLease());
        io.capstan.etcd.api.mvcc.KeyValue valueKept = read(kv, key);
        assertEquals("second", valueKept.getValue().toStringUtf8(), "ignore_value keeps the value");
        assertEquals(0, valueKept.getLease(), "a put without a lease detaches it");

        var byLease =
                kv.txn(
                        TxnRequest.newBuilder()
                                .addCompare(
                                        Compare.newBuilder()
                                                .setKey(key)
                                                .setTarget(Compare.CompareTarget.LEASE)
                                                .setResult(Compare.CompareResult.EQUAL)
                                                .setLease(0))
                                .build());
        assertTrue(byLease.getSucceeded());
        assertEquals(cluster.memberId(member), byLease.getHeader().getMemberId());
    }

    /**
     * etcd reads a negative limit as none and a negative revision as the latest; so does Capstan.
     */
    @Test
    void negativeLimitAndRevisionReadAsEtcdReadsThem(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv =
                KVGrpc.newBlockingStub(cluster.channel(cluster.follower()))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        String prefix = "kv/negative/";
        for (String name : List.of("a", "b", "c")) {
            kv.put(
                    PutRequest.newBuilder()
                            .setKey(ByteString.copyFromUtf8(prefix + name))
                            .setValue(ByteString.copyFromUtf8(name))
                            .build());
        }
        RangeRequest all =
                RangeRequest.newBuilder()
                        .setKey(ByteString.copyFromUtf8(prefix))
                        .setRangeEnd(ByteString.copyFromUtf8("kv/negative0"))
                        .build();

        RangeResponse noLimit = kv.range(all.toBuilder().setLimit(-1).build());
        assertEquals(3, noLimit.getKvsCount());
        assertFalse(noLimit.getMore());
        RangeResponse latest = kv.range(all.toBuilder().setRevision(-1).setLimit(-7).build());
        assertEquals(3, latest.getKvsCount());
        assertEquals(noLimit.getHeader().getRevision(), latest.getHeader().getRevision());
        RangeResponse none = kv.range(all.toBuilder().setMaxModRevision(-1).build());
        assertEquals(0, none.getKvsCount(), "no key's revision is at most -1");
        assertEquals(3, none.getCount());
        var inTxn =
                kv.txn(
                        TxnRequest.newBuilder()
                                .addSuccess(
                                        RequestOp.newBuilder()
                                                .setRequestRange(
                                                        all.toBuilder()
                                                                .setRevision(-1)
                                                                .setLimit(-1)))
                                .build());
        assertEquals(3, inTxn.getResponses(0).getResponseRange().getKvsCount());
    }

    /**
     * This cluster never compacts otherwise: a first compaction at 0 is accepted, a second refused,
     * as etcd.
     */
    @Test
    void compactionAtZeroIsAcceptedOnceAsEtcdAcceptsIt(EtcdCluster cluster) {
        KVGrpc.KVBlockingStub kv =
                KVGrpc.newBlockingStub(cluster.channel(cluster.awaitLeader()))
                        .withDeadlineAfter(30, TimeUnit.SECONDS);
        String gone = "etcdserver: mvcc: required revision has been compacted";
        ApiErrorsTest.assertStatus(
                Status.Code.OUT_OF_RANGE,
                gone,
                () -> kv.compact(CompactionRequest.newBuilder().setRevision(-1).build()));
        long revision =
                kv.range(
                                RangeRequest.newBuilder()
                                        .setKey(ByteString.copyFromUtf8("kv/zero"))
                                        .build())
                        .getHeader()
                        .getRevision();

        CompactionResponse first = kv.compact(CompactionRequest.getDefaultInstance());
        assertTrue(first.getHeader().getRevision() >= revision);
        ApiErrorsTest.assertStatus(
                Status.Code.OUT_OF_RANGE,
                gone,
                () -> kv.compact(CompactionRequest.getDefaultInstance()));
    }

    private static io.capstan.etcd.api.mvcc.KeyValue read(
            KVGrpc.KVBlockingStub kv, ByteString key) {
        RangeResponse response = kv.range(RangeRequest.newBuilder().setKey(key).build());
        assertEquals(1, response.getKvsCount());
        return response.getKvs(0);
    }

    private static String value(KV kv, String key) throws Exception {
        GetResponse response = get(kv.get(bytes(key)));
        assertEquals(1, response.getCount(), key);
        return text(response.getKvs().get(0).getValue());
    }

    private static List<String> names(GetResponse response, String prefix) {
        return response.getKvs().stream()
                .map(found -> text(found.getKey()))
                .filter(name -> name.startsWith(prefix))
                .map(name -> name.substring(prefix.length()))
                .toList();
    }

    static <T> T get(CompletableFuture<T> future) throws Exception {
        return future.get(30, TimeUnit.SECONDS);
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    static String text(ByteSequence bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
