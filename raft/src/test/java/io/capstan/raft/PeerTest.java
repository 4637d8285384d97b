package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.capstan.raft.InvalidCommandException.Reason;
import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.MemberPutRequest;
import io.capstan.raft.proto.MemberRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One rule for member ids, wherever an id enters: a peer, and a member record in the log. */
class PeerTest {
    /** 63 characters, the most an id may have. */
    private static final String LONGEST =
            "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-01234567";

    @ParameterizedTest
    @ValueSource(strings = {"n1", "node-7", "0", LONGEST})
    void idsOfTheRuleAreTakenEverywhere(String id) {
        assertTrue(Peer.isValidId(id));
        assertEquals(id, new Peer(id, "127.0.0.1:7480").id());
        new CommandValidator(Limits.DEFAULT).validate(memberPut(id));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "N1", "node_1", "node.1", "n 1", LONGEST + "8"})
    void idsOutsideTheRuleAreRefusedEverywhere(String id) {
        assertFalse(Peer.isValidId(id));
        IllegalArgumentException peer =
                assertThrows(IllegalArgumentException.class, () -> new Peer(id, "127.0.0.1:7480"));
        assertTrue(peer.getMessage().contains(Peer.ID_RULE), peer.getMessage());
        if (!id.isEmpty()) {
            // An empty name is a member added but not started yet, which the log allows.
            InvalidCommandException record =
                    assertThrows(
                            InvalidCommandException.class,
                            () -> new CommandValidator(Limits.DEFAULT).validate(memberPut(id)));
            assertEquals(Reason.MALFORMED, record.reason());
        }
    }

    @Test
    void theLongestIdHas63CharactersAndNullIsNone() {
        assertEquals(63, LONGEST.length());
        assertFalse(Peer.isValidId(null));
    }

    private static Command memberPut(String name) {
        return Command.newBuilder()
                .setMemberPut(
                        MemberPutRequest.newBuilder()
                                .setMember(
                                        MemberRecord.newBuilder()
                                                .setId(42)
                                                .setName(name)
                                                .addPeerUrls("http://127.0.0.1:7484")))
                .build();
    }
}
