package io.capstan.raft;

import io.capstan.raft.proto.Command;
import io.capstan.raft.proto.CommandResult;
import io.capstan.raft.proto.RangeRequest;
import io.capstan.raft.proto.RangeResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * A store with its applier, driven the way the state machine drives them (validate, then apply with
 * increasing log indexes), for unit tests. Records lease events.
 */
final class Keyspace implements LeaseEvents {
    final MvccStore store = new MvccStore();
    final List<String> events = new ArrayList<>();
    private final Applier applier = new Applier(store, this, AppliedChanges.NONE);
    private final CommandValidator validator = new CommandValidator(Limits.DEFAULT);
    private long logIndex;

    CommandResult apply(Command command) {
        validator.validate(command);
        return applier.apply(command, ++logIndex);
    }

    RangeResponse range(RangeRequest request) {
        long at = store.readableRevision(request.getRevision());
        RangeResponse response = RangeReader.read(store, request, at);
        store.checkReadable(at);
        return response;
    }

    @Override
    public void granted(long id, long ttlSeconds) {
        events.add("granted " + id + " " + ttlSeconds);
    }

    @Override
    public void renewed(long id, long ttlSeconds) {
        events.add("renewed " + id + " " + ttlSeconds);
    }

    @Override
    public void revoked(long id) {
        events.add("revoked " + id);
    }
}
