package io.capstan.controller.admin;

import io.capstan.raft.RaftNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * {@code POST /v1/snapshot}: this member takes a Raft snapshot of its state now (reusing the latest
 * when nothing was applied since), which lets Raft purge the log behind it; answers {@code
 * {"member": name, "log_index": n}}. Immutable.
 */
final class TakeSnapshotEndpoint implements AdminEndpoint {

    private final RaftNode raft;

    TakeSnapshotEndpoint(RaftNode raft) {
        this.raft = raft;
    }

    @Override
    public CompletableFuture<Answer> call(Request request) {
        return raft.admin()
                .takeSnapshot()
                .thenApply(
                        index -> {
                            Map<String, Object> body = new LinkedHashMap<>();
                            body.put("member", raft.nodeId());
                            body.put("log_index", index);
                            return Answer.ok(body);
                        });
    }
}
