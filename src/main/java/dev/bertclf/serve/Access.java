package dev.bertclf.serve;

import dev.bertclf.config.Settings;
import spark.Request;
import spark.Response;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Who may call which route, checked before any route runs: methods a route does not take (405 with {@code Allow}),
 * CORS ({@code serve.cors.allowed-origins}: preflights answered, headers only for allowed origins) and API keys
 * ({@code serve.api-keys-file}: {@code Authorization: Bearer <key>}, 401 with {@code WWW-Authenticate: Bearer}
 * otherwise). A key in the query string is refused, so that no key is ever in a URL, a proxy's log or a browser's
 * history. The demo page, {@code /openapi.json} and {@code /docs} never need a key: they hold no data.
 */
final class Access {
    /** Query parameters that look like a key sent in the URL. */
    private static final Set<String> KEY_PARAMETERS = Set.of("api_key", "apikey", "api-key", "key", "token",
            "access_token");
    private static final Set<String> ALWAYS_OPEN = Set.of("/", "/openapi.json", "/docs");
    static final String ALLOWED_HEADERS = "Authorization, Content-Type, X-Request-Id";

    /** A request refused before its route, with the status and message to answer. */
    record Refusal(int status, String message) {
    }

    private final ApiKeys keys;
    private final Set<String> openRoutes;
    private final List<String> allowedOrigins;

    private Access(ApiKeys keys, Set<String> openRoutes, List<String> allowedOrigins) {
        this.keys = keys;
        this.openRoutes = openRoutes;
        this.allowedOrigins = allowedOrigins;
    }

    static Access of(Settings.ServeSettings.Access a) {
        return new Access(a.apiKeysFile() == null ? null : ApiKeys.read(a.apiKeysFile()), Set.copyOf(a.openRoutes()),
                List.copyOf(a.allowedOrigins()));
    }

    /**
     * Checks a request against its route ({@code methods}, null for a path no route has), adding CORS headers where
     * its origin is allowed; returns why it is refused (a preflight's 204 included), or null to let it through.
     */
    Refusal check(Request req, Response res, Set<String> methods) {
        String origin = req.headers("Origin");
        boolean allowedOrigin = origin != null && (allowedOrigins.contains("*") || allowedOrigins.contains(origin));
        if (allowedOrigin) {
            res.header("Access-Control-Allow-Origin", origin);
            res.header("Access-Control-Expose-Headers", AccessLog.REQUEST_ID);
        }
        if (origin != null && !allowedOrigins.isEmpty()) {
            res.header("Vary", "Origin");
        }
        String method = req.requestMethod().toUpperCase(Locale.ROOT);
        String path = req.pathInfo();
        boolean docsFile = path.startsWith("/docs/");
        if (methods == null && !docsFile) {
            return null; // 404 from the router
        }
        Set<String> allowed = methods == null ? Set.of("GET") : methods;
        if (method.equals("OPTIONS")) {
            return preflight(req, res, origin, allowedOrigin, allowed);
        }
        if (!allowed.contains(method) && !(method.equals("HEAD") && allowed.contains("GET"))) {
            res.header("Allow", String.join(", ", new TreeSet<>(allowed)));
            return new Refusal(405, "method not allowed: " + method + " " + path + " (allowed: "
                    + String.join(", ", new TreeSet<>(allowed)) + ")");
        }
        if (keys == null || docsFile || ALWAYS_OPEN.contains(path) || openRoutes.contains(path)) {
            return null;
        }
        return authenticate(req, res);
    }

    /** The parameter names of a query string, read without the servlet's parameter parsing, which reads bodies. */
    static List<String> queryNames(String query) {
        if (query == null || query.isEmpty()) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        for (String pair : query.split("&")) {
            String name = pair.split("=", 2)[0];
            try {
                names.add(URLDecoder.decode(name, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                names.add(name);
            }
        }
        return names;
    }

    private static Refusal preflight(Request req, Response res, String origin, boolean allowedOrigin,
                                     Set<String> allowed) {
        TreeSet<String> methods = new TreeSet<>(allowed);
        methods.add("OPTIONS");
        res.header("Allow", String.join(", ", methods));
        if (origin == null) {
            return new Refusal(204, "");
        }
        if (!allowedOrigin) {
            return new Refusal(403, "origin not allowed: " + origin);
        }
        res.header("Access-Control-Allow-Methods", String.join(", ", methods));
        res.header("Access-Control-Allow-Headers", ALLOWED_HEADERS);
        res.header("Access-Control-Max-Age", "600");
        return new Refusal(204, "");
    }

    private Refusal authenticate(Request req, Response res) {
        for (String p : queryNames(req.raw().getQueryString())) {
            if (KEY_PARAMETERS.contains(p.toLowerCase(Locale.ROOT))) {
                res.header("WWW-Authenticate", "Bearer");
                return new Refusal(401, "API keys are not taken in the URL: send \"Authorization: Bearer <key>\"");
            }
        }
        String header = req.headers("Authorization");
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            res.header("WWW-Authenticate", "Bearer");
            return new Refusal(401, "an API key is needed: send \"Authorization: Bearer <key>\"");
        }
        if (!keys.accepts(header.substring(7).strip())) {
            res.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return new Refusal(401, "API key not accepted");
        }
        return null;
    }
}
