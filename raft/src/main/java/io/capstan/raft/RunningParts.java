package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of a member that exist while it runs, started together ({@link #start}) and closed
 * together ({@link #close}): the keyspace state machine, its watch hub and the hub's thread, the
 * Ratis server, the Ratis client (whose RPC forwards requests to other members), the request
 * carrier and the read barrier. Immutable once built, so {@link RaftNode} publishes it with one
 * volatile write and a reader sees all of it or nothing.
 */
final class RunningParts {
    private static final Logger LOG = LoggerFactory.getLogger(RunningParts.class);

    final KeyspaceStateMachine machine;
    final WatchHub hub;
    final RaftServer server;
    final RaftClient client;
    final RaftRequests requests;
    final ReadBarrier readBarrier;
    private final WatchDriver driver;

    private RunningParts(
            KeyspaceStateMachine machine,
            WatchHub hub,
            WatchDriver driver,
            RaftServer server,
            RaftClient client,
            RaftRequests requests,
            ReadBarrier readBarrier) {
        this.machine = machine;
        this.hub = hub;
        this.driver = driver;
        this.server = server;
        this.client = client;
        this.requests = requests;
        this.readBarrier = readBarrier;
    }

    /**
     * Builds and starts a member's parts on the calling thread; when a step fails, closes what it
     * had started and throws.
     *
     * @param group the group the server starts with (empty for a member joining a running cluster)
     * @param peersGroup the group with every configured peer, which the client and carrier know
     * @param submit how the state machine proposes a command of its own (a lease's expiry)
     * @param logFailure completed with the cause once Ratis cannot write the log
     */
    static RunningParts start(
            RaftSettings settings,
            TransportBinding transport,
            Clock clock,
            CommandValidator validator,
            RaftGroup group,
            RaftGroup peersGroup,
            NodeThreads threads,
            Function<Command, CompletableFuture<CommandResult>> submit,
            CompletableFuture<Throwable> logFailure)
            throws IOException {
        Files.createDirectories(settings.dataDir());
        RaftProperties properties = RatisConfig.properties(settings);
        Parameters parameters = new Parameters();
        transport.configure(settings.self(), properties, parameters);
        WatchHub hub =
                new WatchHub(settings.nodeId(), settings.watch(), clock, threads.watchDelivery);
        KeyspaceStateMachine machine =
                new KeyspaceStateMachine(
                        settings.nodeId(),
                        validator,
                        threads.lease,
                        clock,
                        settings.leaseCheckInterval(),
                        submit::apply,
                        hub,
                        Backup.seedFile(settings.dataDir()),
                        settings.snapshotThreshold(),
                        logFailure);
        WatchDriver driver = new WatchDriver(hub);
        driver.start();
        RaftServer server = null;
        RaftClient client = null;
        try {
            server =
                    RaftServer.newBuilder()
                            .setServerId(RaftPeerId.valueOf(settings.nodeId()))
                            .setGroup(group)
                            .setStateMachine(machine)
                            .setProperties(properties)
                            .setParameters(parameters)
                            .setOption(RaftStorage.StartupOption.RECOVER)
                            .build();
            server.start();
            client = client(settings, properties, parameters, peersGroup);
            RaftRequests carrier =
                    new RaftRequests(
                            server,
                            group.getGroupId(),
                            client.getClientRpc(),
                            peersGroup.getPeers(),
                            threads.requests,
                            settings.requestDeadline(),
                            System::nanoTime);
            ReadRounds rounds =
                    new ReadRounds(
                            server,
                            group.getGroupId(),
                            transport.leadershipCheck(),
                            machine,
                            carrier,
                            threads.requests,
                            settings.requestTimeout());
            RunningParts parts =
                    new RunningParts(
                            machine,
                            hub,
                            driver,
                            server,
                            client,
                            carrier,
                            new ReadBarrier(rounds::next));
            machine.leaseExpiry().start();
            return parts;
        } catch (IOException | RuntimeException e) {
            new RunningParts(machine, hub, driver, server, client, null, null).close(settings);
            throw e;
        }
    }

    private static RaftClient client(
            RaftSettings settings,
            RaftProperties properties,
            Parameters parameters,
            RaftGroup peersGroup) {
        long sleepMillis = 100;
        int attempts = (int) Math.max(10, settings.requestTimeout().toMillis() * 2 / sleepMillis);
        return RaftClient.newBuilder()
                .setProperties(properties)
                .setParameters(parameters)
                .setRaftGroup(peersGroup)
                .setClientId(ClientId.randomId())
                .setRetryPolicy(
                        RetryPolicies.retryUpToMaximumCountWithFixedSleep(
                                attempts, TimeDuration.valueOf(sleepMillis, TimeUnit.MILLISECONDS)))
                .build();
    }

    /**
     * Closes the client, then the server, then ends every watch (its listeners hear that it ended
     * once the delivery threads run what is queued); logs what fails and goes on.
     */
    void close(RaftSettings settings) {
        String nodeId = settings.nodeId();
        if (client != null) {
            try {
                client.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("[{}] closing raft client: {}", nodeId, e.toString());
            }
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException | RuntimeException e) {
                LOG.warn("[{}] closing raft server: {}", nodeId, e.toString());
            }
        }
        driver.stop("member " + nodeId + " is stopping", settings.requestTimeout());
    }
}
