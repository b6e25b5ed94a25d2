package dev.bertclf.app;

import dev.bertclf.config.ConfigException;
import dev.bertclf.model.JvmSetup;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.DataException;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.CpuReport;
import dev.bertclf.model.ModelException;
import dev.bertclf.run.RunFolder;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Locale;

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
     * How a command reads a CSV with a trained run: the column names and bad-row policy the run was trained with,
     * unless {@code -Dbertclf.data.text-column / label-column / bad-rows} say otherwise.
     */
    public record DataOptions(String textColumn, String labelColumn, Settings.BadRowPolicy badRows) {
        public static DataOptions of(RunFolder run) {
            Settings.DataSettings data = run.settings().data();
            return new DataOptions(override("text-column", data.textColumn()),
                    override("label-column", data.labelColumn()), Settings.BadRowPolicy.valueOf(
                    override("bad-rows", Settings.nameOf(data.badRows())).toUpperCase(Locale.ROOT)));
        }

        private static String override(String key, String saved) {
            return System.getProperty(ConfigLoader.ROOT + ".data." + key, saved);
        }
    }

    /** A trained run opened for a command that reads a CSV with it: its classifier and {@link DataOptions}. */
    public record OpenedRun(RunFolder run, Classifier classifier, DataOptions data) {
        public static OpenedRun of(Path runFolder) {
            RunFolder run = new RunFolder(runFolder);
            Classifier classifier = run.classifier(ConfigLoader.load(null).inference().precision());
            return new OpenedRun(run, classifier, DataOptions.of(run));
        }

        public String textColumn() {
            return data.textColumn();
        }

        public String labelColumn() {
            return data.labelColumn();
        }

        public Settings.BadRowPolicy badRows() {
            return data.badRows();
        }
    }

    /**
     * Runs a command that takes the arguments {@code usage} names, each {@code <required>} and then each
     * {@code [optional]}: with another count it prints the usage and exits with 2.
     */
    public static int run(String name, String[] args, String usage, Body body) {
        return run(name, () -> {
            long required = usage.chars().filter(c -> c == '<').count();
            long optional = usage.chars().filter(c -> c == '[').count();
            if (args.length < required || args.length > required + optional) {
                System.err.println("usage: " + name + (usage.isEmpty() ? "" : " " + usage));
                return BAD_INPUT;
            }
            return body.run();
        });
    }

    /** A command body that reads options by name. */
    @FunctionalInterface
    public interface OptionsBody {
        int run(CommandLine line) throws Exception;
    }

    /**
     * Runs a command that takes {@code options} by name ({@code --batch 16}): an unknown or missing option, a stray
     * argument or a number that is not one prints what is wrong and the usage, and exits with 2.
     */
    public static int run(String name, String[] args, Options options, OptionsBody body) {
        return run(name, () -> {
            CommandLine line;
            try {
                line = new DefaultParser().parse(options, args);
                if (!line.getArgList().isEmpty()) {
                    throw new ParseException("unexpected argument: " + line.getArgList().get(0));
                }
                for (Option o : line.getOptions()) {
                    if (o.getType() == Number.class && !(line.getParsedOptionValue(o) instanceof Long)) {
                        throw new ParseException("--" + o.getLongOpt() + " takes a whole number, not " + o.getValue());
                    }
                }
            } catch (ParseException e) {
                System.err.println(name + ": " + e.getMessage());
                StringWriter usage = new StringWriter();
                new HelpFormatter().printUsage(new PrintWriter(usage), 110, name, options);
                System.err.print(usage);
                return BAD_INPUT;
            }
            return body.run(line);
        });
    }

    /** An option's whole-number value, or {@code otherwise} where it is not given. */
    public static int intOption(CommandLine line, Option option, int otherwise) {
        return line.hasOption(option) ? Integer.parseInt(line.getOptionValue(option)) : otherwise;
    }

    /** Runs a command: bad configuration, data or model files give a clear message and exit code 2. */
    public static int run(String name, Body body) {
        try {
            JvmSetup.apply();
            log.info("{}", CpuReport.current().line());
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
