package dev.bertclf.io;

import me.tongfei.progressbar.ProgressBar;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URLConnection;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Downloads over HTTP(S) (or from a {@code file:} URL) into a file that appears only once complete and verified:
 * the bytes go to a temporary sibling with a progress bar, their digest is checked as they stream, and only then
 * is the file fsynced and renamed into place. A failed or interrupted download leaves nothing behind.
 */
public final class Download {
    private static final int CONNECT_TIMEOUT_MS = 30_000;
    private static final int READ_TIMEOUT_MS = 60_000;

    private Download() {
    }

    /**
     * What a downloaded file must be.
     *
     * @param bytes     its size (0 = unchecked)
     * @param algorithm a {@link MessageDigest} algorithm such as {@code SHA-256}
     * @param hex       the expected digest in lower-case hex ("" = unchecked)
     */
    public record Expected(long bytes, String algorithm, String hex) {
    }

    /** Why a download failed, in words for the user; callers add what the user can do about it. */
    public static final class Failure extends IOException {
        Failure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** Downloads {@code url} to {@code target}, showing a bar named {@code task}. */
    public static void to(URI url, Path target, Expected expected, String task) throws Failure {
        Path tmp = AtomicFiles.temp(target);
        try {
            URLConnection c = open(url);
            long total = c.getContentLengthLong();
            MessageDigest digest = digest(expected.algorithm());
            long size = 0;
            try (InputStream in = new DigestInputStream(new BufferedInputStream(c.getInputStream()), digest);
                 OutputStream out = Files.newOutputStream(tmp);
                 ProgressBar bar = ProgressBars.builder(task, Math.max(total, 0)).setUnit(" MB", 1 << 20)
                         .setUpdateIntervalMillis(500).build()) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    bar.stepBy(n);
                    size += n;
                }
            }
            String problem = check(size, HexFormat.of().formatHex(digest.digest()), expected);
            if (problem != null) {
                throw new Failure("the downloaded file " + problem, null);
            }
            AtomicFiles.commit(tmp, target);
        } catch (Failure e) {
            throw e;
        } catch (IOException e) {
            throw failure(e);
        } finally {
            AtomicFiles.deleteRecursively(tmp);
        }
    }

    /** A small text file, such as a checksum, read whole. */
    public static String text(URI url) throws Failure {
        try (InputStream in = open(url).getInputStream()) {
            return new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
        } catch (Failure e) {
            throw e;
        } catch (IOException e) {
            throw failure(e);
        }
    }

    /** Null if a file has the expected size and digest, else what is wrong with it. */
    public static String verify(Path file, Expected expected) {
        try {
            long size = Files.size(file);
            if (expected.bytes() > 0 && size != expected.bytes()) {
                return check(size, "", expected);
            }
            if (expected.hex().isEmpty()) {
                return null;
            }
            MessageDigest digest = digest(expected.algorithm());
            try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
                in.transferTo(OutputStream.nullOutputStream());
            }
            return check(size, HexFormat.of().formatHex(digest.digest()), expected);
        } catch (IOException e) {
            return "cannot be read: " + e.getMessage();
        }
    }

    private static String check(long size, String hex, Expected expected) {
        if (expected.bytes() > 0 && size != expected.bytes()) {
            return "has " + size + " bytes, not " + expected.bytes() + " (truncated or not the expected file)";
        }
        if (!expected.hex().isEmpty() && !hex.equals(expected.hex())) {
            return "has " + expected.algorithm() + " " + hex + ", not " + expected.hex()
                    + " (corrupt or not the expected file)";
        }
        return null;
    }

    private static URLConnection open(URI url) throws IOException {
        URLConnection c = url.toURL().openConnection();
        c.setConnectTimeout(CONNECT_TIMEOUT_MS);
        c.setReadTimeout(READ_TIMEOUT_MS);
        if (c instanceof HttpURLConnection http && http.getResponseCode() >= 400) {
            throw new Failure("the server answered HTTP " + http.getResponseCode() + " " + http.getResponseMessage(),
                    null);
        }
        return c;
    }

    private static Failure failure(IOException e) {
        if (e instanceof UnknownHostException) {
            return new Failure("unknown host " + e.getMessage() + " (no network or no DNS?)", e);
        }
        if (e instanceof SocketTimeoutException) {
            return new Failure("timed out (" + e.getMessage() + ")", e);
        }
        return new Failure(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
    }

    private static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException("Unknown digest " + algorithm, e);
        }
    }
}
