package dev.bertclf.app;

import dev.bertclf.config.ConfigException;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.DataException;
import dev.bertclf.model.ModelException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.bertclf.model.RunFolder;

import java.io.UncheckedIOException;
import java.util.Locale;
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

    /**
     * Column names and bad-row policy for reading a CSV with a trained run: those the run was trained with,
     * unless {@code -Dbertclf.data.text-column / label-column / bad-rows} say otherwise.
     */
    public record RunData(String textColumn, String labelColumn, Settings.BadRowPolicy badRows) {
        public static RunData of(RunFolder run) {
            Config data = ConfigFactory.parseFile(run.file(RunFolder.CONFIG).toFile()).resolve()
                    .getConfig(ConfigLoader.ROOT + ".data");
            return new RunData(override("text-column", data), override("label-column", data),
                    Settings.BadRowPolicy.valueOf(override("bad-rows", data).toUpperCase(Locale.ROOT)));
        }

        private static String override(String key, Config data) {
            return System.getProperty(ConfigLoader.ROOT + ".data." + key, data.getString(key));
        }
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
