package dev.bertclf.serve;

import net.logstash.logback.marker.Markers;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spark.Request;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Request ids and the access log: one JSON line per request (logger {@value #LOGGER}, Logstash's encoder, on
 * standard output) with its id, method, path, status, texts, word pieces, queue wait, pass time and total time. The
 * request's texts only with {@code serve.log-texts = true}; never its query string or headers, so no API key.
 */
final class AccessLog {
    static final String LOGGER = "dev.bertclf.serve.access";
    static final String REQUEST_ID = "X-Request-Id";
    static final String STARTED = "bertclf.started";
    private static final String FIELDS = "bertclf.accessFields";
    /** A caller's request id is kept if it is this safe to log and to echo; else one is made. */
    private static final Pattern WELL_FORMED = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    private static final Logger log = LoggerFactory.getLogger(LOGGER);

    private final boolean logTexts;

    AccessLog(boolean logTexts) {
        this.logTexts = logTexts;
    }

    /** The caller's {@code X-Request-Id} if well-formed, else a new random one. */
    static String requestId(String given) {
        return given != null && WELL_FORMED.matcher(given).matches() ? given : UUID.randomUUID().toString();
    }

    /** Notes a /predict request's texts: their count, and the texts themselves where allowed. */
    void texts(Request req, List<String> texts) {
        Map<String, Object> f = fields(req);
        f.put("texts", texts.size());
        if (logTexts) {
            f.put("text", texts);
        }
    }

    /** Notes what the forward pass of a /predict request did. */
    void answered(Request req, MicroBatcher.Answer a) {
        Map<String, Object> f = fields(req);
        f.put("word_pieces", a.wordPieces());
        f.put("queue_ms", a.queuedNanos() / 1e6);
        f.put("pass_ms", a.passNanos() / 1e6);
        f.put("model", a.model().id());
    }

    /** Writes the request's line. */
    void log(Request req, String id, int status, long nanos) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("request_id", id);
        line.put("method", req.requestMethod());
        line.put("path", req.pathInfo());
        line.put("status", status);
        line.putAll(fields(req));
        line.put("total_ms", nanos / 1e6);
        log.info(Markers.appendEntries(line), "{} {} {}", req.requestMethod(), req.pathInfo(), status);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> fields(Request req) {
        Map<String, Object> f = req.attribute(FIELDS);
        if (f == null) {
            f = new LinkedHashMap<>();
            req.attribute(FIELDS, f);
        }
        return f;
    }
}
