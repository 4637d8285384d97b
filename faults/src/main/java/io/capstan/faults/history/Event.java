package io.capstan.faults.history;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One line of a run's history file: an operation's invocation or completion, a watch's opening,
 * event or end, or an event of the final log of the whole keyspace. Fields that do not apply are
 * null (and left out of the file).
 *
 * @param process who did it: a client ({@code c0}, {@code l0} for lease clients, {@code final}), a
 *     watcher ({@code w0}) or {@code log} (the final watch of the whole keyspace)
 * @param type {@code invoke}, then {@code ok}, {@code fail} (it did not take effect) or {@code
 *     unknown} (it may have); for watches {@code open}, {@code event}, {@code close}
 * @param f the operation: {@code put}, {@code get}, {@code cas}, {@code delete}, {@code grant},
 *     {@code lease-put}, {@code keepalive}, {@code ttl}, {@code watch}
 * @param time nanoseconds since the run started, from one monotonic clock
 * @param key the key, where there is one
 * @param value the value written (put, cas, lease-put, an event's put) or read (get)
 * @param expect the value a cas compares with
 * @param prev the value the operation found before it (put, cas, delete); null: no key
 * @param succeeded whether a cas's compare held
 * @param revision the response header's revision; an event's revision
 * @param modRevision the mod revision of the value a get read
 * @param lease the lease a key is attached to, or a lease operation's lease
 * @param ttl the TTL granted, asked for, or left
 * @param eventType a watch event's kind: {@code put} or {@code delete}
 * @param range a watch's range: its key prefix ({@code ""}: the whole keyspace)
 * @param error why it failed or is unknown
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Event(
        String process,
        String type,
        String f,
        long time,
        String key,
        String value,
        String expect,
        String prev,
        Boolean succeeded,
        Long revision,
        Long modRevision,
        Long lease,
        Long ttl,
        String eventType,
        String range,
        String error) {

    public static final String INVOKE = "invoke";
    public static final String OK = "ok";
    public static final String FAIL = "fail";
    public static final String UNKNOWN = "unknown";
    public static final String OPEN = "open";
    public static final String EVENT = "event";
    public static final String CLOSE = "close";

    /** A builder starting from the fields every event has but its time ({@link Builder#at}). */
    public static Builder of(String process, String type, String f) {
        return new Builder(process, type, f);
    }

    /** Builds an {@link Event} field by field; not thread-safe, used by one thread at a time. */
    public static final class Builder {
        private final String process;
        private final String type;
        private final String f;
        private long time;
        private String key;
        private String value;
        private String expect;
        private String prev;
        private Boolean succeeded;
        private Long revision;
        private Long modRevision;
        private Long lease;
        private Long ttl;
        private String eventType;
        private String range;
        private String error;

        private Builder(String process, String type, String f) {
            this.process = process;
            this.type = type;
            this.f = f;
        }

        public Builder at(long time) {
            this.time = time;
            return this;
        }

        public Builder key(String key) {
            this.key = key;
            return this;
        }

        public Builder value(String value) {
            this.value = value;
            return this;
        }

        public Builder expect(String expect) {
            this.expect = expect;
            return this;
        }

        public Builder prev(String prev) {
            this.prev = prev;
            return this;
        }

        public Builder succeeded(boolean succeeded) {
            this.succeeded = succeeded;
            return this;
        }

        public Builder revision(long revision) {
            this.revision = revision;
            return this;
        }

        public Builder modRevision(long modRevision) {
            this.modRevision = modRevision;
            return this;
        }

        public Builder lease(long lease) {
            this.lease = lease;
            return this;
        }

        public Builder ttl(long ttl) {
            this.ttl = ttl;
            return this;
        }

        public Builder eventType(String eventType) {
            this.eventType = eventType;
            return this;
        }

        public Builder range(String range) {
            this.range = range;
            return this;
        }

        public Builder error(String error) {
            this.error = error;
            return this;
        }

        public Event build() {
            return new Event(
                    process,
                    type,
                    f,
                    time,
                    key,
                    value,
                    expect,
                    prev,
                    succeeded,
                    revision,
                    modRevision,
                    lease,
                    ttl,
                    eventType,
                    range,
                    error);
        }
    }
}
