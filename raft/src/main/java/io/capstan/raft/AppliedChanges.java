package io.capstan.raft;

import java.util.List;

/**
 * What the apply thread tells the watch hub, in log order. Implementations are called on the apply
 * thread and must return at once: an O(1) handoff, never a wait, never per-watch work.
 */
interface AppliedChanges {
    AppliedChanges NONE =
            new AppliedChanges() {
                @Override
                public void applied(long revision, List<Change> changes) {}

                @Override
                public void storeInstalled(MvccStore store) {}
            };

    /**
     * Revision {@code revision} was published (it is readable) with these changes, at most one per
     * key. The list passes to the callee; the apply thread never touches it again.
     */
    void applied(long revision, List<Change> changes);

    /** The apply thread now writes {@code store} (at start, or after installing a snapshot). */
    void storeInstalled(MvccStore store);
}
