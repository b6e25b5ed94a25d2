package dev.bertclf.model;

import dev.bertclf.config.Settings.ModelSettings;
import dev.bertclf.io.AtomicFiles;
import dev.bertclf.io.Download;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Jars of pretrained weights from a Maven repository, fetched on first use: the jar is looked up in the local
 * Maven repository (where Maven itself keeps it, so a fresh clone finds it again), and otherwise downloaded from the
 * remote repository, checked against the repository's SHA-1 and moved into the local one atomically. The default
 * model is a build dependency and never comes through here; the others are fetched only when a run asks for them.
 */
public final class MavenArtifacts {
    private static final Logger log = LoggerFactory.getLogger(MavenArtifacts.class);
    private static final Pattern COORDINATES = Pattern.compile("[\\w.-]+:[\\w.-]+:[\\w.-]+");
    private static final Pattern SHA1 = Pattern.compile("[0-9a-f]{40}");

    /**
     * Where jars come from.
     *
     * @param remote base URL of a Maven repository (Maven Central or a mirror)
     * @param local  the local Maven repository folder
     */
    public record Repositories(URI remote, Path local) {
        /** Maven Central and Maven's own local repository ({@code -Dmaven.repo.local}, else {@code ~/.m2}). */
        public static Repositories defaults() {
            return new Repositories(URI.create(ModelSettings.MAVEN_CENTRAL), ModelSettings.defaultLocalRepository());
        }

        public static Repositories of(ModelSettings m) {
            return new Repositories(m.repository(), m.localRepository());
        }
    }

    private MavenArtifacts() {
    }

    /** The jar of {@code group:artifact:version}, from the local repository or fetched into it. */
    public static Path jar(String coordinates, Repositories repos) {
        String relative = relativePath(coordinates);
        Path jar = repos.local().resolve(relative);
        Path sha1File = jar.resolveSibling(jar.getFileName() + ".sha1");
        if (Files.isRegularFile(jar)) {
            String problem = Files.isRegularFile(sha1File)
                    ? Download.verify(jar, new Download.Expected(0, "SHA-1", readSha1(sha1File, coordinates)))
                    : null;
            if (problem == null) {
                return jar;
            }
            log.warn("{} {}: fetching it again", jar, problem);
            AtomicFiles.deleteRecursively(jar);
        }
        URI url = URI.create(repos.remote().toString().replaceAll("/+$", "") + "/" + relative);
        log.info("Fetching {} from {} into {}", coordinates, url, jar);
        try {
            Files.createDirectories(jar.getParent());
            String sha1 = parseSha1(Download.text(URI.create(url + ".sha1")), url + ".sha1");
            Download.to(url, jar, new Download.Expected(0, "SHA-1", sha1), "Fetch " + jar.getFileName());
            AtomicFiles.writeString(sha1File, sha1);
        } catch (java.io.IOException e) {
            throw new ModelException("Cannot fetch the model weights " + coordinates + " from " + url + ": "
                    + e.getMessage() + ". Fetch them with Maven (mvn dependency:get -Dartifact=" + coordinates
                    + " -Dmaven.repo.local=" + repos.local().toAbsolutePath() + ") or set bertclf.model.repository "
                    + "to a Maven repository you can reach", e);
        }
        return jar;
    }

    /** {@code group/as/folders/artifact/version/artifact-version.jar}, after checking the coordinates' form. */
    static String relativePath(String coordinates) {
        if (coordinates == null || !COORDINATES.matcher(coordinates).matches()) {
            throw new ModelException("Model source artifact '" + coordinates
                    + "' is not Maven coordinates of the form group:artifact:version");
        }
        String[] p = coordinates.split(":");
        return p[0].replace('.', '/') + "/" + p[1] + "/" + p[2] + "/" + p[1] + "-" + p[2] + ".jar";
    }

    private static String readSha1(Path file, String coordinates) {
        try {
            return parseSha1(Files.readString(file), file.toString());
        } catch (java.io.IOException e) {
            throw new ModelException("Cannot read " + file + " (checksum of " + coordinates + "): " + e.getMessage());
        }
    }

    /** The checksum in a {@code .sha1} file: its first word (some repositories append the file name). */
    private static String parseSha1(String text, String source) {
        String first = text.strip().split("\\s+")[0].toLowerCase(Locale.ROOT);
        if (!SHA1.matcher(first).matches()) {
            throw new ModelException(source + " holds no SHA-1 checksum: '" + text.strip() + "'");
        }
        return first;
    }
}
