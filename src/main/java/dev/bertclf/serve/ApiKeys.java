package dev.bertclf.serve;

import dev.bertclf.config.ConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The API keys a server accepts, held as SHA-256 digests only ({@code serve.api-keys-file}: one hex digest per line,
 * {@code #} comments). A presented key is hashed and compared with every digest in constant time, so neither the
 * comparison's time nor an early exit tells how much of a key was right.
 */
final class ApiKeys {
    private static final Pattern DIGEST = Pattern.compile("[0-9a-fA-F]{64}");
    private final List<byte[]> digests;

    private ApiKeys(List<byte[]> digests) {
        this.digests = digests;
    }

    /** The keys of {@code file}, refusing any line that is not a SHA-256 digest (a plain key, say). */
    static ApiKeys read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(List.of("Cannot read serve.api-keys-file " + file.toAbsolutePath() + ": " + e));
        }
        List<byte[]> digests = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (!DIGEST.matcher(line).matches()) {
                problems.add(file.toAbsolutePath() + ", line " + (i + 1) + ": not a SHA-256 digest (64 hex digits;"
                        + " the file holds digests of the keys, never the keys: sha256sum)");
            } else {
                digests.add(HexFormat.of().parseHex(line.toLowerCase(Locale.ROOT)));
            }
        }
        if (digests.isEmpty() && problems.isEmpty()) {
            problems.add(file.toAbsolutePath() + " holds no key digest: no request could be let in");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new ApiKeys(List.copyOf(digests));
    }

    /** Whether {@code key} is one of the accepted keys. */
    boolean accepts(String key) {
        byte[] presented = sha256(key);
        boolean found = false;
        for (byte[] d : digests) {
            found |= MessageDigest.isEqual(d, presented);
        }
        return found;
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
