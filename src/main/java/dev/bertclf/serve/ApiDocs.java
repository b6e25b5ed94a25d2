package dev.bertclf.serve;

import javax.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The pages the server serves as they are: the demo page, and the API's contract: {@code /openapi.json} (the document in {@code src/main/resources/openapi.json}) and
 * {@code /docs}, Swagger UI from its WebJar on the classpath, so that no page loads anything from a CDN.
 */
final class ApiDocs {
    static final String DOCUMENT = "/openapi.json";
    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";
    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Map<String, String> TYPES = Map.of("js", "application/javascript", "css", "text/css",
            "png", "image/png", "html", "text/html;charset=utf-8", "map", "application/json");
    private static final String OPEN_API = resource(DOCUMENT);
    private static final String PAGE = resource("/swagger/index.html");
    private static final String DEMO = resource("/public/index.html");
    private static final String VERSION = webJarVersion();

    private ApiDocs() {
    }

    static String openApi() {
        return OPEN_API;
    }

    /** The demo page. */
    static String demoPage() {
        return DEMO;
    }

    static String swaggerUiPage() {
        return PAGE;
    }

    /**
     * Writes one file of Swagger UI's WebJar; false if there is none of that name. Names are plain file names, so no
     * path leaves the WebJar.
     */
    static boolean swaggerUiFile(String name, HttpServletResponse res) throws IOException {
        String ext = name.substring(name.lastIndexOf('.') + 1);
        InputStream in = FILE.matcher(name).matches() && TYPES.containsKey(ext)
                ? ApiDocs.class.getClassLoader().getResourceAsStream(WEBJAR + VERSION + "/" + name) : null;
        if (in == null) {
            return false;
        }
        try (in) {
            res.setContentType(TYPES.get(ext));
            res.setHeader("Cache-Control", "max-age=86400");
            OutputStream out = res.getOutputStream();
            in.transferTo(out);
            out.flush();
        }
        return true;
    }

    private static String resource(String path) {
        try (InputStream in = ApiDocs.class.getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String webJarVersion() {
        Properties p = new Properties();
        try (InputStream in = ApiDocs.class.getResourceAsStream(
                "/META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            if (in == null) {
                throw new IllegalStateException("Swagger UI's WebJar is missing from the classpath");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }
}
