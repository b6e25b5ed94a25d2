package dev.bertclf.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Limits that hold against abusive clients: body size whatever the encoding, slow clients, timed-out requests. */
class ServerLimitsTest {
    static final int STREAM_BYTES = 64 << 20;

    /** A raw HTTP/1.1 connection to the fixture's server. */
    static Socket connect(ServerFixture fx) throws IOException {
        URI u = URI.create(fx.base);
        Socket s = new Socket(u.getHost(), u.getPort());
        s.setSoTimeout(30_000);
        return s;
    }

    static String head(String transferEncoding) {
        return "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: " + transferEncoding + "\r\n\r\n";
    }

    /** Reads the status code of the response, or -1 if the server closed the connection without one. */
    static int status(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) != -1 && c != '\n'; ) {
            line.append((char) c);
        }
        String[] parts = line.toString().split(" ");
        return parts.length > 1 ? Integer.parseInt(parts[1]) : -1;
    }

    /** A /predict request that announces 1000 bytes of body, sends the first few, and then holds. */
    static Socket slowPost(ServerFixture fx) throws IOException {
        Socket s = connect(fx);
        s.getOutputStream().write(("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\": \"")
                .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    @ParameterizedTest
    @ValueSource(strings = {"chunked", "Chunked", "gzip, chunked", "identity, chunked", "CONTENT-LENGTH"})
    void anOverLimitBodyGets413WithoutBeingReadWhateverItsEncoding(String encoding) throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel, "serve.max-body-bytes=1048576");
             Socket s = connect(fx)) {
            OutputStream out = s.getOutputStream();
            boolean declared = encoding.equals("CONTENT-LENGTH");
            out.write((declared ? "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + STREAM_BYTES + "\r\n\r\n" : head(encoding))
                    .getBytes(StandardCharsets.US_ASCII));
            long oldGenBefore = oldGenPeakAfterReset();
            AtomicLong sent = new AtomicLong();
            Thread writer = new Thread(() -> {
                byte[] chunk = new byte[64 << 10];
                java.util.Arrays.fill(chunk, (byte) ' ');
                byte[] size = (Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                try {
                    while (sent.get() < STREAM_BYTES) {
                        if (!declared) {
                            out.write(size);
                        }
                        out.write(chunk);
                        if (!declared) {
                            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                        }
                        sent.addAndGet(chunk.length);
                    }
                    if (!declared) {
                        out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.flush();
                } catch (IOException closedByServer) {
                    // the server refused the rest of the body: what this test wants
                }
            });
            writer.start();
            int code = status(s.getInputStream());
            long sentAtAnswer = sent.get();
            writer.join(30_000);
            long oldGenGrowth = oldGenPeak() - oldGenBefore;
            assertEquals(413, code, "over-limit body with " + encoding);
            // a server that read the body before answering would answer after all of it; on a loaded machine the
            // loopback socket's buffers let the client get some MB (17 seen) past the 1 MB the server reads
            assertTrue(sentAtAnswer < STREAM_BYTES / 2, "answered before the client could send half the body (sent "
                    + sentAtAnswer + " bytes of " + STREAM_BYTES + "): the server did not read the body");
            assertTrue(oldGenGrowth < 32 << 20, "the heap stayed flat while " + sent.get() + " bytes were sent: "
                    + "old generation peak grew by " + oldGenGrowth + " bytes");
        }
    }

    /** Large arrays (a buffered body) go straight to the old generation; its peak shows whether one was made. */
    static long oldGenPeakAfterReset() {
        System.gc();
        oldGenPools().forEach(java.lang.management.MemoryPoolMXBean::resetPeakUsage);
        return oldGenPeak();
    }

    static long oldGenPeak() {
        return oldGenPools().stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    }

    static List<java.lang.management.MemoryPoolMXBean> oldGenPools() {
        return java.lang.management.ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getName().contains("Old") || p.getName().contains("Tenured")).toList();
    }

    @Test
    void twentySlowLorisConnectionsLeaveHealthAnsweringAndAreClosedByTheIdleTimeout() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel, "serve.idle-timeout-ms=3000",
                "serve.min-request-data-rate=0")) {
            List<Socket> loris = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    Socket s = slowPost(fx);
                    loris.add(s);
                }
                Thread.sleep(500);
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    assertEquals(200, fx.get("/health").statusCode());
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    assertTrue(seconds < 1.0, "/health answered in " + seconds + " s with 20 slow clients held");
                }
                long deadline = System.currentTimeMillis() + 10_000;
                for (Socket s : loris) {
                    s.setSoTimeout((int) Math.max(1, deadline - System.currentTimeMillis()));
                    try {
                        s.getInputStream().read();
                    } catch (SocketTimeoutException e) {
                        throw new AssertionError("a slow client was still held 7 s after the 3 s idle timeout", e);
                    } catch (IOException reset) {
                        // closed by the server: what this test wants
                    }
                }
            } finally {
                for (Socket s : loris) {
                    s.close();
                }
            }
        }
    }

    @Test
    void slowClientsBeyondTheConcurrencyLimitGet429AtOnce() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel, "serve.threads=12",
                "serve.max-concurrent-predictions=4", "serve.idle-timeout-ms=20000",
                "serve.min-request-data-rate=0")) {
            List<Socket> slow = new ArrayList<>();
            List<Integer> answers = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch refused = new CountDownLatch(2);
            try {
                for (int i = 0; i < 6; i++) {
                    Socket s = slowPost(fx);
                    slow.add(s);
                    Thread t = new Thread(() -> {
                        try {
                            answers.add(status(s.getInputStream()));
                            refused.countDown();
                        } catch (IOException ignored) {
                            // closed when the test ends
                        }
                    });
                    t.setDaemon(true);
                    t.start();
                }
                assertTrue(refused.await(5, TimeUnit.SECONDS), "two of six slow clients answered at once: "
                        + answers);
                assertEquals(List.of(429, 429), answers);
                assertEquals(200, fx.get("/health").statusCode());
            } finally {
                for (Socket s : slow) {
                    s.close();
                }
            }
        }
    }

    @Test
    void aBodyTricklingInBelowTheMinimumRateIsCutOff() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel, "serve.idle-timeout-ms=30000",
                "serve.min-request-data-rate=1024"); Socket s = connect(fx)) {
            OutputStream out = s.getOutputStream();
            out.write(("POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 1000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            long t0 = System.nanoTime();
            Thread trickle = new Thread(() -> {
                try {
                    for (int i = 0; i < 100; i++) {
                        out.write(' ');
                        out.flush();
                        Thread.sleep(200);
                    }
                } catch (IOException | InterruptedException closed) {
                    // cut off by the server
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            s.setSoTimeout(15_000);
            int code = status(s.getInputStream());
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertTrue(code == 408 || code == -1, "cut off with 408 or a closed connection, got " + code);
            assertTrue(seconds < 10, "cut off after " + seconds + " s, long before the 30 s idle timeout");
        }
    }

    @Test
    void aRequestThatTimedOutIsAnswered503AndNeverComputed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<String> computed = Collections.synchronizedList(new ArrayList<>());
        Predictor slow = texts -> {
            computed.addAll(texts);
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return ServerFixture.fakeModel(texts);
        };
        try (ServerFixture fx = new ServerFixture(slow, "serve.predict-timeout-ms=700",
                "serve.batching.max-batch-size=1", "serve.batching.max-wait-ms=0")) {
            Thread first = new Thread(() -> {
                try {
                    fx.predict("{\"text\": \"first\"}");
                } catch (Exception ignored) {
                    // times out too; only what the model computed matters here
                }
            });
            first.start();
            Thread.sleep(200);
            var late = fx.predict("{\"text\": \"late\"}");
            assertEquals(503, late.statusCode(), late.body());
            assertTrue(late.body().contains("timed out"));
            release.countDown();
            first.join(10_000);
            assertEquals(200, fx.predict("{\"text\": \"good\"}").statusCode());
            assertEquals(List.of("first", "good"), computed, "the timed-out request was dropped before computing");
        }
    }

    /**
     * A stand-in model that reads a text in one window of 128 word pieces per word "long" it holds (at least one), a
     * pass of {@code passRows} windows taking 100 ms; {@code passes} counts the passes run.
     */
    static Predictor windowedModel(java.util.concurrent.atomic.AtomicInteger passes) {
        return new Predictor() {
            @Override
            public float[][] predict(java.util.List<String> texts) {
                return ServerFixture.fakeModel(texts);
            }

            @Override
            public int windowLength() {
                return 128;
            }

            @Override
            public int windows(String text) {
                return Math.max(1, text.split("long", -1).length - 1);
            }

            @Override
            public Reading read(java.util.List<String> texts, int passRows) {
                int windows = texts.stream().mapToInt(this::windows).sum();
                return new Reading() {
                    int read;

                    @Override
                    public boolean step() {
                        try {
                            Thread.sleep(100);
                        } catch (InterruptedException e) {
                            throw new IllegalStateException(e);
                        }
                        passes.incrementAndGet();
                        read += passRows;
                        return read >= windows;
                    }

                    @Override
                    public Pass result() {
                        return new Pass(ServerFixture.fakeModel(texts), new int[texts.size()]);
                    }
                };
            }
        };
    }

    @Test
    void aLongTextIsReadAPassAtATimeWithShortRequestsAnsweredBetweenItsPasses() throws Exception {
        java.util.concurrent.atomic.AtomicInteger passes = new java.util.concurrent.atomic.AtomicInteger();
        try (ServerFixture fx = new ServerFixture(windowedModel(passes),
                "serve.long-text-unit-word-pieces=300", "serve.max-windows=20")) {
            String longText = "a good " + "long ".repeat(20);
            var longRequest = fx.client.sendAsync(java.net.http.HttpRequest.newBuilder(URI.create(fx.base
                    + "/predict")).header("Content-Type", "application/json").POST(java.net.http.HttpRequest
                    .BodyPublishers.ofString("{\"text\": \"" + longText + "\"}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (passes.get() < 2) {
                assertTrue(System.nanoTime() < deadline, "the long text is read a pass at a time");
                Thread.sleep(10);
            }
            long t0 = System.nanoTime();
            var shortAnswer = fx.predict("{\"text\": \"a bad film\"}");
            double shortMs = (System.nanoTime() - t0) / 1e6;
            int passesThen = passes.get();
            assertEquals(200, shortAnswer.statusCode(), shortAnswer.body());
            assertTrue(shortAnswer.body().contains("\"negative\""), shortAnswer.body());
            assertTrue(passesThen < 10, "answered after " + passesThen + " of the long text's 10 passes, "
                    + shortMs + " ms");
            var longAnswer = longRequest.get();
            assertEquals(200, longAnswer.statusCode(), longAnswer.body());
            assertTrue(longAnswer.body().contains("\"positive\""), longAnswer.body());
            assertEquals(10, passes.get(), "20 windows in passes of 2 (300 word pieces hold 2 windows of 128)");

            var tooMany = fx.predict("{\"texts\": [\"" + longText + "\", \"long\"]}");
            assertEquals(413, tooMany.statusCode(), tooMany.body());
            assertTrue(tooMany.body().contains("too many windows: the texts are read in 21 windows (at most 20"),
                    tooMany.body());
        }
    }
}
