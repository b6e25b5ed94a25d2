package dev.bertclf.serve;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import net.logstash.logback.encoder.LogstashEncoder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Request ids, and one JSON access-log line per request. */
class RequestLogTest {
    final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    final LogstashEncoder encoder = new LogstashEncoder();

    @BeforeEach
    void capture() {
        Logger access = (Logger) LoggerFactory.getLogger(AccessLog.LOGGER);
        encoder.setContext(access.getLoggerContext());
        encoder.setFindAndRegisterJacksonModules(false);
        encoder.start();
        logged.start();
        access.addAppender(logged);
    }

    @AfterEach
    void release() {
        ((Logger) LoggerFactory.getLogger(AccessLog.LOGGER)).detachAppender(logged);
    }

    /** The access-log lines as the configured encoder writes them, each one line of JSON. */
    List<JsonNode> lines() throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (ILoggingEvent e : List.copyOf(logged.list)) {
            String line = new String(encoder.encode(e), StandardCharsets.UTF_8);
            assertEquals(1, line.split("\n").length, "one line: " + line);
            out.add(new ObjectMapper().readTree(line));
        }
        return out;
    }

    JsonNode lineOf(String requestId) throws Exception {
        for (int tries = 0; tries < 50; tries++) {
            for (JsonNode n : lines()) {
                if (n.path("request_id").asText().equals(requestId)) {
                    return n;
                }
            }
            Thread.sleep(20); // the line is written after the answer is sent
        }
        throw new AssertionError("no access-log line for " + requestId);
    }

    @Test
    void aWellFormedRequestIdIsKeptAndReturned() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel)) {
            HttpResponse<String> r = fx.predict("{\"texts\": [\"a good one\", \"bad\"]}", "X-Request-Id",
                    "client-42.a:b_c");
            assertEquals("client-42.a:b_c", r.headers().firstValue("X-Request-Id").orElse(null));
            JsonNode line = lineOf("client-42.a:b_c");
            assertEquals("POST", line.get("method").asText());
            assertEquals("/predict", line.get("path").asText());
            assertEquals(200, line.get("status").asInt());
            assertEquals(2, line.get("texts").asInt());
            assertEquals(ServerFixture.RUN, line.get("model").asText());
            for (String field : new String[]{"word_pieces", "queue_ms", "pass_ms", "total_ms", "@timestamp"}) {
                assertTrue(line.has(field), field + " in " + line);
            }
            assertFalse(line.toString().contains("a good one"), "no text by default: " + line);
        }
    }

    @Test
    void aMissingOrMalformedRequestIdIsReplacedByANewOne() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel)) {
            String made = fx.get("/health").headers().firstValue("X-Request-Id").orElseThrow();
            assertTrue(made.matches("[0-9a-f-]{36}"), made);
            String other = fx.get("/health").headers().firstValue("X-Request-Id").orElseThrow();
            assertNotEquals(made, other);
            for (String bad : new String[]{"has space", "x".repeat(129), "quote\"d", "new\u00e9"}) {
                String id = fx.get("/health", "X-Request-Id", bad).headers().firstValue("X-Request-Id")
                        .orElseThrow();
                assertTrue(id.matches("[0-9a-f-]{36}"), bad + " was replaced: " + id);
            }
            assertEquals(404, lineOf(fx.get("/missing", "X-Request-Id", "r404").headers()
                    .firstValue("X-Request-Id").orElseThrow()).get("status").asInt());
        }
    }

    @Test
    void textsAreLoggedOnlyWhenAskedFor() throws Exception {
        try (ServerFixture fx = new ServerFixture(ServerFixture::fakeModel, "serve.log-texts=true")) {
            fx.predict("{\"text\": \"a good one\"}", "X-Request-Id", "with-text");
            assertEquals("a good one", lineOf("with-text").get("text").get(0).asText());
        }
    }
}
