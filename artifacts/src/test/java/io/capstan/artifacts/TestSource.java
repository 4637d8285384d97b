package io.capstan.artifacts;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server on 127.0.0.1 that serves artifacts' bytes by path and counts every request, as
 * an artifact's source URL does. Paths can be told to answer a status first, or to stall mid-body
 * until released, to exercise retries and timeouts.
 */
public final class TestSource implements AutoCloseable {
    private final HttpServer server;
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Map<String, byte[]> bodies = new ConcurrentHashMap<>();
    private final Map<String, Queue<Integer>> statuses = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    private final Map<String, List<String>> peerHeaders = new ConcurrentHashMap<>();
    private final CountDownLatch release = new CountDownLatch(1);
    private volatile String stallPath = "";
    private volatile long delayMillis;

    public TestSource() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(threads);
        server.start();
    }

    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    public void serve(String path, byte[] body) {
        bodies.put(path, body);
    }

    /** The next requests for {@code path} answer these statuses, in order, before serving it. */
    public void failFirst(String path, Integer... codes) {
        statuses.put(path, new ConcurrentLinkedQueue<>(List.of(codes)));
    }

    /** Requests for {@code path} send half the body, then wait until {@link #close()}. */
    public void stall(String path) {
        stallPath = path;
    }

    /** Every answer waits this long before its first byte (a slow source). */
    public void delay(long millis) {
        delayMillis = millis;
    }

    public int requests(String path) {
        AtomicInteger count = requests.get(path);
        return count == null ? 0 : count.get();
    }

    /** The Capstan-Peer-Secret header each request for {@code path} carried (empty when none). */
    public List<String> peerSecrets(String path) {
        return peerHeaders.getOrDefault(path, List.of());
    }

    private void handle(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        String secret = exchange.getRequestHeaders().getFirst("Capstan-Peer-Secret");
        peerHeaders.merge(
                path,
                List.of(secret == null ? "" : secret),
                (a, b) -> java.util.stream.Stream.concat(a.stream(), b.stream()).toList());
        try (exchange) {
            if (delayMillis > 0) {
                Thread.sleep(delayMillis);
            }
            Queue<Integer> queued = statuses.get(path);
            Integer code = queued == null ? null : queued.poll();
            byte[] body = bodies.get(path);
            if (code != null || body == null) {
                exchange.sendResponseHeaders(code != null ? code : 404, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            OutputStream out = exchange.getResponseBody();
            if (path.equals(stallPath)) {
                out.write(body, 0, body.length / 2);
                out.flush();
                release.await(60, TimeUnit.SECONDS);
                return;
            }
            out.write(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        release.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
