package dev.bertclf.app;

import dev.bertclf.config.ConfigException;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.DataException;
import dev.bertclf.model.ModelException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Shared command-line handling: argument parsing, config loading and turning failures into exit codes. */
public final class Cli {
    private static final Logger log = LoggerFactory.getLogger(Cli.class);
    public static final Path DEFAULT_EXPERIMENT = Path.of("conf/default.conf");
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int BAD_INPUT = 2;

    private Cli() {
    }

    /** A command body that may throw; returns the exit code. */
    @FunctionalInterface
    public interface Body {
        int run() throws Exception;
    }

    /** The experiment file: the first argument, or {@code conf/default.conf}. */
    public static Settings settings(String[] args) {
        Path conf = args.length > 0 && !args[0].isBlank() ? Path.of(args[0]) : DEFAULT_EXPERIMENT;
        return ConfigLoader.load(conf);
    }

    /** Runs a command: bad configuration, data or model files give a clear message and exit code 2. */
    public static int run(String name, Body body) {
        JvmSetup.apply();
        try {
            return body.run();
        } catch (ConfigException | DataException | ModelException | IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            return BAD_INPUT;
        } catch (UncheckedIOException e) {
            System.err.println(name + ": " + e.getMessage());
            return FAILED;
        } catch (Exception e) {
            log.error("{} failed", name, e);
            return FAILED;
        }
    }
}
