package io.capstan.controller.admin;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One admin endpoint's logic, apart from HTTP: takes the request's path parameters and body,
 * completes with the answer or fails (an {@link AdminError.AdminException} for a refusal, anything
 * else is translated by {@link AdminErrors}). Called on the admin executor; must not block.
 */
@FunctionalInterface
interface AdminEndpoint {

    CompletableFuture<Answer> call(Request request);

    /**
     * @param path the path template's parameters, e.g. {@code id} of {@code
     *     /v1/cluster/members/{id}}
     */
    record Request(Map<String, String> path, byte[] body) {
        public Request {
            path = Map.copyOf(path);
        }

        String path(String name) {
            return path.get(name);
        }
    }

    /** A success: status, a body Jackson writes as JSON, and extra headers. */
    record Answer(int status, Object body, Map<String, String> headers) {
        public Answer {
            headers = Map.copyOf(headers);
        }

        static Answer ok(Object body) {
            return new Answer(200, body, Map.of());
        }
    }
}
