package io.capstan.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;

class RatisConfigTest {
    private static RaftSettings settings(Duration requestTimeout) {
        return RaftSettings.builder(
                        "n1",
                        List.of(new Peer("n1", "127.0.0.1:7481")),
                        UUID.randomUUID(),
                        Path.of("data"))
                .requestTimeout(requestTimeout)
                .build();
    }

    @Test
    void theRetryCacheOutlivesARequestsDeadlineAndNoLonger() {
        RaftSettings settings = settings(Duration.ofSeconds(5));
        RaftProperties p = RatisConfig.properties(settings);
        long expiry = RaftServerConfigKeys.RetryCache.expiryTime(p).toLong(TimeUnit.MILLISECONDS);
        assertTrue(
                expiry > settings.requestDeadline().toMillis(),
                "a retry within the deadline must still find the first reply: " + expiry + " ms");
        assertEquals(20_000, expiry);
    }

    @Test
    void writesAreSyncedReadsAreLinearizableAndNoMetadataEntriesAreAppended() {
        RaftProperties p = RatisConfig.properties(settings(Duration.ofSeconds(5)));
        assertFalse(RaftServerConfigKeys.Log.unsafeFlushEnabled(p));
        assertFalse(RaftServerConfigKeys.Log.asyncFlushEnabled(p));
        assertFalse(RaftServerConfigKeys.Log.logMetadataEnabled(p));
        assertEquals(
                RaftServerConfigKeys.Read.Option.LINEARIZABLE, RaftServerConfigKeys.Read.option(p));
    }
}
