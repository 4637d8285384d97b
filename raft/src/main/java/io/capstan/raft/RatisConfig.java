package io.capstan.raft;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/** The one place where {@link RaftSettings} become Ratis properties (transport aside). */
final class RatisConfig {
    private RatisConfig() {}

    static RaftProperties properties(RaftSettings settings) {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.setStorageDir(p, List.of(settings.dataDir().toFile()));

        RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(settings.electionTimeoutMin().toMillis()));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(settings.electionTimeoutMax().toMillis()));
        // A member that starts waits a fifth of the election timeout (up to two fifths) before
        // its first election, so a cold cluster elects a leader as soon as its members are up.
        // Pre-vote keeps an early candidate from disturbing a cluster that already has a leader.
        long firstElection = settings.electionTimeoutMin().toMillis() / 5;
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, millis(firstElection));
        RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, millis(2 * firstElection));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, millis(settings.requestTimeout().toMillis()));
        RaftClientConfigKeys.Rpc.setRequestTimeout(p, millis(settings.requestTimeout().toMillis()));

        // The retry cache answers a request sent again with the same call id from the first
        // reply. RaftRequests sends one call id until the request's deadline, so the deadline and
        // one more request timeout cover it. Ratis's default of 60 s kept about 400 bytes per write
        // for a minute (96 MB on a leader at 4,000 writes/s), every entry old enough to be
        // promoted, so each full collection had it to mark and move.
        RaftServerConfigKeys.RetryCache.setExpiryTime(
                p, millis(settings.requestDeadline().plus(settings.requestTimeout()).toMillis()));

        // The default answers reads from the leader's state without ReadIndex: not linearizable.
        RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
        RaftServerConfigKeys.Read.setTimeout(p, millis(settings.requestTimeout().toMillis()));

        // Acknowledge only what is on disk: flush each append before replying.
        RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, false);
        RaftServerConfigKeys.Log.setAsyncFlushEnabled(p, false);
        // Without this Ratis appends an entry recording the commit index after every commit, and
        // replicates and syncs it like a write: two appends per write, 1.4 to 1.5 times the
        // writes/s once off. Nothing needs it: a restarted member learns the commit index from the
        // leader, and capstan recover replays the whole log (LogReplay).
        RaftServerConfigKeys.Log.setLogMetadataEnabled(p, false);
        SizeInBytes segment = SizeInBytes.valueOf(settings.logSegmentBytes());
        RaftServerConfigKeys.Log.setSegmentSizeMax(p, segment);
        RaftServerConfigKeys.Log.setPreallocatedSize(
                p, SizeInBytes.valueOf(Math.min(settings.logSegmentBytes(), 4L << 20)));
        // Entries of the open segment and of the last closed one stay in memory for followers
        // catching up; older ones are read from disk. Ratis's default keeps up to 200 MB.
        RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
        RaftServerConfigKeys.Log.setSegmentCacheSizeMax(
                p, SizeInBytes.valueOf(2 * settings.logSegmentBytes()));
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
        RaftServerConfigKeys.Log.setPurgePreservationLogNum(
                p, settings.logEntriesKeptAfterSnapshot());
        RaftServerConfigKeys.Log.setPurgeGap(p, 1);
        RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);

        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, settings.snapshotThreshold());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, settings.snapshotsRetained());
        return p;
    }

    private static TimeDuration millis(long millis) {
        return TimeDuration.valueOf(millis, TimeUnit.MILLISECONDS);
    }
}
