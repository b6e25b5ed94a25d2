package dev.bertclf.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A wrong method gets 405 with Allow; Jetty's own rejections are the API's JSON errors, not Jetty's HTML page. */
class HttpErrorsTest {
    static ServerFixture fx;

    @BeforeAll
    static void start() {
        fx = new ServerFixture(ServerFixture::fakeModel);
    }

    @AfterAll
    static void stop() {
        fx.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET", "PUT", "DELETE", "PATCH"})
    void predictAnswersOtherMethodsWith405AllowPost(String method) throws Exception {
        HttpResponse<String> r = fx.send(method, "/predict");
        assertEquals(405, r.statusCode(), r.body());
        assertEquals("POST", r.headers().firstValue("Allow").orElse(null));
        assertTrue(new ObjectMapper().readTree(r.body()).get("error").asText().contains("not allowed"), r.body());
    }

    @Test
    void readOnlyRoutesAnswerPostWith405AllowGet() throws Exception {
        for (String path : new String[]{"/health", "/model", "/metrics", "/openapi.json", "/docs", "/"}) {
            HttpResponse<String> r = fx.post(path, "application/json", "{}");
            assertEquals(405, r.statusCode(), path + ": " + r.body());
            assertEquals("GET", r.headers().firstValue("Allow").orElse(null), path);
        }
    }

    /** Sends raw bytes; returns the status line, headers and body. */
    static String raw(String request) throws Exception {
        try (Socket s = ServerLimitsTest.connect(fx)) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "GET /docs/%2e%2e%2fopenapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\nConnection: close\r\n\r\n"})
    void jettysOwnRejectionsAreJsonErrors(String request) throws Exception {
        String response = raw(request);
        int status = Integer.parseInt(response.split(" ")[1]);
        assertTrue(status >= 400 && status < 500, response);
        String body = response.substring(response.indexOf("\r\n\r\n") + 4);
        assertTrue(response.toLowerCase().contains("content-type: application/json"), response);
        assertTrue(new ObjectMapper().readTree(body).has("error"), response);
        assertTrue(!body.contains("<html") && !body.contains("Jetty"), response);
    }
}
