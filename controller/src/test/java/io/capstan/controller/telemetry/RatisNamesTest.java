package io.capstan.controller.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class RatisNamesTest {

    @Test
    void namesBecomeSnakeCaseUnderApplicationAndComponent() {
        assertEquals(
                new RatisNames.Named("ratis_leader_election_election_count", Optional.empty()),
                RatisNames.of("ratis", "leader_election", "electionCount"));
        assertEquals(
                "ratis_server_client_watch_majority_request",
                RatisNames.of("ratis", "server", "clientWatchMAJORITYRequest").name());
        assertEquals(
                "ratis_log_worker_writelog_execution_time",
                RatisNames.of("ratis", "log_worker", "writelogExecutionTime").name());
    }

    @Test
    void peerIdsInPerPeerNamesBecomeALabel() {
        assertEquals(
                new RatisNames.Named("ratis_log_appender_follower_next_index", Optional.of("n2")),
                RatisNames.of("ratis", "log_appender", "follower_n2_next_index"));
        assertEquals(
                new RatisNames.Named("ratis_server_peer_commit_index", Optional.of("node-3")),
                RatisNames.of("ratis", "server", "node-3_peerCommitIndex"));
        assertEquals(
                new RatisNames.Named(
                        "ratis_grpc_log_appender_latency_heartbeat", Optional.of("n1")),
                RatisNames.of("ratis_grpc", "log_appender", "n1_latency_heartbeat"));
        assertEquals(
                new RatisNames.Named(
                        "ratis_grpc_log_appender_success_reply_count", Optional.of("n3")),
                RatisNames.of("ratis_grpc", "log_appender", "n3_success_reply_count"));
    }

    @Test
    void namesOfOtherComponentsKeepTheirWords() {
        // "follower_append_entry_latency" is the server's own, not a peer's.
        assertEquals(
                new RatisNames.Named(
                        "ratis_server_follower_append_entry_latency", Optional.empty()),
                RatisNames.of("ratis", "server", "follower_append_entry_latency"));
    }
}
