package dev.bertclf.serve;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.bertclf.config.ConfigException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** API keys (as SHA-256 digests in a file) and CORS origins, checked before any route. */
class AccessControlTest {
    static final String KEY = "s3cret-key-0123456789";
    static final String OTHER_KEY = "another-key-9876543210";
    static final String ORIGIN = "https://app.example.com";
    @TempDir
    static Path dir;
    static ServerFixture fx;
    static ListAppender<ILoggingEvent> logged = new ListAppender<>();

    static String sha256(String key) throws Exception {
        return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @BeforeAll
    static void start() throws Exception {
        Path keys = dir.resolve("keys.txt");
        Files.writeString(keys, "# team A\n" + sha256(KEY) + "\n\n" + sha256(OTHER_KEY).toUpperCase() + "\n");
        logged.start();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).addAppender(logged);
        ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).addAppender(logged);
        fx = new ServerFixture(ServerFixture::fakeModel, "serve.api-keys-file=" + keys,
                "serve.cors.allowed-origins=" + ORIGIN);
    }

    @AfterAll
    static void stop() {
        fx.close();
        ((Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).detachAppender(logged);
        ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).detachAppender(logged);
    }

    private static void unauthorized(HttpResponse<String> r, String fragment) {
        assertEquals(401, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Bearer"), r.headers().map()
                .toString());
        assertTrue(r.body().contains(fragment), r.body());
    }

    @Test
    void aRequestWithoutAKeyGets401WithABearerChallenge() throws Exception {
        unauthorized(fx.predict("{\"text\": \"good\"}"), "an API key is needed");
        unauthorized(fx.get("/model"), "an API key is needed");
        unauthorized(fx.post("/admin/reload", "application/json", ""), "an API key is needed");
        unauthorized(fx.predict("{\"text\": \"good\"}", "Authorization", "Basic " + KEY), "an API key is needed");
    }

    @Test
    void aWrongKeyGets401() throws Exception {
        unauthorized(fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + KEY + "x"), "not accepted");
        unauthorized(fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + sha256(KEY)), "not accepted");
    }

    @Test
    void everyKeyInTheFileIsAccepted() throws Exception {
        for (String key : new String[]{KEY, OTHER_KEY}) {
            HttpResponse<String> r = fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + key);
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("positive"), r.body());
        }
        assertEquals(200, fx.get("/model", "Authorization", "bearer " + KEY).statusCode());
    }

    @Test
    void aKeyInTheQueryStringIsRefusedEvenWithAGoodHeader() throws Exception {
        for (String q : new String[]{"?api_key=", "?key=", "?x=1&access_token="}) {
            unauthorized(fx.post("/predict" + q + KEY, "application/json", "{\"text\": \"good\"}",
                    "Authorization", "Bearer " + KEY), "not taken in the URL");
        }
    }

    @Test
    void healthMetricsTheDemoAndTheDocsAreOpen() throws Exception {
        assertEquals(200, fx.get("/health").statusCode());
        assertEquals(200, fx.get("/metrics").statusCode());
        assertEquals(200, fx.get("/").statusCode());
        assertEquals(200, fx.get("/openapi.json").statusCode());
        assertEquals(200, fx.get("/docs").statusCode());
    }

    @Test
    void openRoutesAreConfigurable() throws Exception {
        Path keys = dir.resolve("closed.txt");
        Files.writeString(keys, sha256(KEY) + "\n");
        try (ServerFixture closed = new ServerFixture(ServerFixture::fakeModel, "serve.api-keys-file=" + keys,
                "serve.open-routes=")) {
            unauthorized(closed.get("/health"), "an API key is needed");
            unauthorized(closed.get("/metrics"), "an API key is needed");
            assertEquals(200, closed.get("/health", "Authorization", "Bearer " + KEY).statusCode());
        }
    }

    @Test
    void theKeyNeverAppearsInALogLine() throws Exception {
        fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + KEY);
        fx.post("/predict?api_key=" + KEY, "application/json", "{\"text\": \"good\"}");
        fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + KEY + "-wrong");
        assertTrue(logged.list.size() >= 3, "the requests were logged: " + logged.list.size());
        for (ILoggingEvent e : logged.list) {
            String line = e.getFormattedMessage() + " " + e.getMarker();
            assertFalse(line.contains(KEY), "no key in: " + line);
        }
    }

    @Test
    void aFileWithAPlainKeyIsRefusedNamingTheLine() throws Exception {
        Path keys = dir.resolve("plain.txt");
        Files.writeString(keys, sha256(KEY) + "\n" + KEY + "\n");
        ConfigException e = assertThrows(ConfigException.class, () -> new ServerFixture(ServerFixture::fakeModel,
                "serve.api-keys-file=" + keys));
        assertTrue(e.getMessage().contains("plain.txt, line 2: not a SHA-256 digest"), e.getMessage());
        assertFalse(e.getMessage().contains(KEY), "the key is not repeated: " + e.getMessage());
    }

    @Test
    void anAllowedOriginGetsCorsHeadersAndAnotherDoesNot() throws Exception {
        HttpResponse<String> allowed = fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + KEY,
                "Origin", ORIGIN);
        assertEquals(ORIGIN, allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertEquals("Origin", allowed.headers().firstValue("Vary").orElse(null));
        HttpResponse<String> other = fx.predict("{\"text\": \"good\"}", "Authorization", "Bearer " + KEY,
                "Origin", "https://evil.example.com");
        assertEquals(200, other.statusCode());
        assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty(), other.headers().map()
                .toString());
    }

    @Test
    void aPreflightIsAnsweredForAnAllowedOriginWithoutAKeyAndRefusedForAnother() throws Exception {
        HttpResponse<String> ok = fx.send("OPTIONS", "/predict", "Origin", ORIGIN,
                "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization");
        assertEquals(204, ok.statusCode(), ok.body());
        assertEquals(ORIGIN, ok.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertTrue(ok.headers().firstValue("Access-Control-Allow-Methods").orElse("").contains("POST"));
        assertTrue(ok.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
        HttpResponse<String> refused = fx.send("OPTIONS", "/predict", "Origin", "https://evil.example.com",
                "Access-Control-Request-Method", "POST");
        assertEquals(403, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }

    @Test
    void noOriginIsAllowedByDefault() throws Exception {
        try (ServerFixture open = new ServerFixture(ServerFixture::fakeModel)) {
            HttpResponse<String> r = open.predict("{\"text\": \"good\"}", "Origin", ORIGIN);
            assertEquals(200, r.statusCode());
            assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
            assertEquals(403, open.send("OPTIONS", "/predict", "Origin", ORIGIN,
                    "Access-Control-Request-Method", "POST").statusCode());
        }
    }
}
