package dev.bertclf.app;

import dev.bertclf.bench.ExplainBenchmark;
import dev.bertclf.bench.ForwardBenchmark;
import dev.bertclf.bench.GemmBenchmark;
import dev.bertclf.bench.LongTextBenchmark;
import dev.bertclf.bench.PeerBenchmark;
import dev.bertclf.bench.ScoreBenchmark;
import dev.bertclf.bench.ServeBenchmark;
import dev.bertclf.bench.ServeOperationsBenchmark;
import dev.bertclf.bench.TrainingBenchmark;
import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.CsvDataset;
import dev.bertclf.data.LabeledText;
import dev.bertclf.run.RunFolder;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark commands (figures, not tests), with options by name. Reviews come from {@code bertclf.data.test};
 * the experiment's settings apply ({@code --conf}, by default {@code conf/default.conf}), with {@code -D} last.
 */
public final class BenchmarkCommand {
    private static final Option CONF = Option.builder().longOpt("conf").hasArg().argName("experiment.conf")
            .desc("the experiment whose settings apply (default conf/default.conf)").build();
    private static final Option BATCH = Option.builder().longOpt("batch").hasArg().argName("n").type(Number.class).build();
    private static final Option SEQ = Option.builder().longOpt("seq").hasArg().argName("word-pieces").type(Number.class).build();
    private static final Option FROZEN = Option.builder().longOpt("frozen").hasArg().argName("layers").type(Number.class).build();
    private static final Option PROFILE = Option.builder().longOpt("profile")
            .desc("where the time goes, op by op, as Markdown").build();

    private BenchmarkCommand() {
    }

    private static Options options(Option... os) {
        Options options = new Options();
        for (Option o : os) {
            options.addOption(o);
        }
        return options;
    }

    private static Path conf(CommandLine line) {
        return Path.of(line.getOptionValue(CONF.getLongOpt(), Cli.DEFAULT_EXPERIMENT.toString()));
    }

    private static List<LabeledText> reviews(Settings s, int n) {
        List<LabeledText> rows = CsvDataset.read(s.data().test(), new CsvDataset.Columns(s.data().textColumn(),
                s.data().labelColumn()), Settings.BadRowPolicy.SKIP, null).rows();
        return rows.subList(0, Math.min(n, rows.size()));
    }

    /**
     * {@code [--conf f] [--profile [--batch n --seq n]]}: SameDiff against TF, or a pass's profile (8x128);
     * {@code --precisions fp32,int8,bf16 [--repetitions n]}: SameDiff's passes in those precisions, paired.
     */
    public static int forward(String[] args) {
        Option precisions = Option.builder().longOpt("precisions").hasArg().argName("fp32,int8,bf16").build();
        Option repetitions = Option.builder().longOpt("repetitions").hasArg().argName("n").type(Number.class).build();
        Option sensitivity = Option.builder().longOpt("int8-sensitivity").hasArg().argName("run-folder").build();
        return Cli.run("BenchmarkForward", args, options(CONF, PROFILE, BATCH, SEQ, precisions, repetitions,
                sensitivity), line -> {
            Settings s = ConfigLoader.load(conf(line));
            if (line.hasOption(sensitivity)) {
                ForwardBenchmark.int8Sensitivity(new RunFolder(Path.of(line.getOptionValue(sensitivity))),
                        reviews(s, Cli.intOption(line, BATCH, 64)));
            } else if (line.hasOption(precisions)) {
                List<Settings.Precision> ps = new ArrayList<>();
                for (String name : line.getOptionValue(precisions).split(",")) {
                    ps.add(Settings.Precision.valueOf(name.trim().toUpperCase(Locale.ROOT)));
                }
                ForwardBenchmark.comparePrecisions(s, reviews(s, 8), ps, Cli.intOption(line, repetitions, 3));
            } else if (line.hasOption(PROFILE)) {
                int batch = Cli.intOption(line, BATCH, 8);
                System.out.println(ForwardBenchmark.profile(s, reviews(s, batch), batch, Cli.intOption(line, SEQ,
                        128)));
            } else {
                ForwardBenchmark.run(s, reviews(s, 8));
            }
            return Cli.OK;
        });
    }

    /**
     * {@code [--conf f] [--batch n --seq n --frozen n]}: examples/s of the product's training step, by default at
     * 8x128, 16x128 and 16x128 with 6 frozen layers; {@code --profile}: where one step's time goes (16x128);
     * {@code --peer torch_bert_peer.py [--repetitions n]}: against the PyTorch peer, A B A B.
     */
    public static int training(String[] args) {
        Option peer = Option.builder().longOpt("peer").hasArg().argName("torch_bert_peer.py").build();
        Option repetitions = Option.builder().longOpt("repetitions").hasArg().argName("n").type(Number.class).build();
        return Cli.run("BenchmarkTraining", args, options(CONF, PROFILE, BATCH, SEQ, FROZEN, peer, repetitions),
                line -> {
            Path conf = conf(line);
            Settings s = ConfigLoader.load(conf);
            if (line.hasOption(peer)) {
                PeerBenchmark.run(Path.of(line.getOptionValue(peer)), conf.toString(),
                        Cli.intOption(line, repetitions, 3), List.of(new int[] {16, 128, 0}, new int[] {16, 128, 6}),
                        s.data().test().toString());
                return Cli.OK;
            }
            if (line.hasOption(PROFILE)) {
                System.out.println(TrainingBenchmark.profile(conf, reviews(s, 12 * 16), shape(line, 16, 128, 0), 3));
                return Cli.OK;
            }
            List<TrainingBenchmark.Shape> shapes = line.hasOption(BATCH) || line.hasOption(SEQ)
                    || line.hasOption(FROZEN) ? List.of(shape(line, 16, 128, 0))
                    : List.of(new TrainingBenchmark.Shape(8, 128, 0), new TrainingBenchmark.Shape(16, 128, 0),
                    new TrainingBenchmark.Shape(16, 128, 6));
            TrainingBenchmark.run(conf, reviews(s, 12 * 16), shapes);
            return Cli.OK;
        });
    }

    private static TrainingBenchmark.Shape shape(CommandLine line, int batch, int seq, int frozen) {
        return new TrainingBenchmark.Shape(Cli.intOption(line, BATCH, batch), Cli.intOption(line, SEQ, seq),
                Cli.intOption(line, FROZEN, frozen));
    }

    /** No options: fp32 against bf16 matmuls at BERT's largest shape, and the CPU's bf16 and AMX flags. */
    public static int gemm(String[] args) {
        return Cli.run("BenchmarkGemm", args, options(), line -> {
            GemmBenchmark.run();
            return Cli.OK;
        });
    }

    /**
     * {@code [--conf f] [--operations [--minutes m] [--concurrency c] [--reloads r]]}: HTTP latency and throughput of
     * a served run folder; or a mixed workload with hot reloads, failures, latency per phase and resident memory.
     */
    public static int serve(String[] args) {
        Option operations = Option.builder().longOpt("operations")
                .desc("a mixed workload with hot reloads, instead of the latency table").build();
        Option minutes = Option.builder().longOpt("minutes").hasArg().argName("m").type(Number.class).build();
        Option concurrency = Option.builder().longOpt("concurrency").hasArg().argName("c").type(Number.class).build();
        Option reloads = Option.builder().longOpt("reloads").hasArg().argName("r").type(Number.class).build();
        return Cli.run("BenchmarkServe", args, options(CONF, operations, minutes, concurrency, reloads), line -> {
            Settings s = ConfigLoader.load(conf(line));
            if (line.hasOption(operations)) {
                ServeOperationsBenchmark.run(s, reviews(s, 256).stream().map(LabeledText::text).toList(),
                        Cli.intOption(line, minutes, 10), Cli.intOption(line, concurrency, 16),
                        Cli.intOption(line, reloads, 3));
            } else {
                ServeBenchmark.run(s, reviews(s, 64));
            }
            return Cli.OK;
        });
    }

    /**
     * {@code --run dir [--conf f] [--steps 8,16,32,64] [--texts n] [--pieces n]}: each text's completeness gap and
     * time at each number of steps, reviews from data.test of about {@code pieces} word pieces;
     * {@code --serve [--requests n]}: p50 of short /predict requests alone and while /explain runs, A B A B.
     */
    public static int explain(String[] args) {
        Option run = Option.builder().longOpt("run").hasArg().argName("run-folder").required().build();
        Option steps = Option.builder().longOpt("steps").hasArg().argName("8,16,32,64").build();
        Option texts = Option.builder().longOpt("texts").hasArg().argName("n").type(Number.class).build();
        Option pieces = Option.builder().longOpt("pieces").hasArg().argName("n").type(Number.class).build();
        Option serve = Option.builder().longOpt("serve").desc("/predict p50 while /explain runs").build();
        Option requests = Option.builder().longOpt("requests").hasArg().argName("n").type(Number.class).build();
        return Cli.run("BenchmarkExplain", args, options(CONF, run, steps, texts, pieces, serve, requests), line -> {
            Settings s = ConfigLoader.load(conf(line));
            RunFolder r = new RunFolder(Path.of(line.getOptionValue(run)));
            List<String> chosen = ExplainBenchmark.ofLength(r, reviews(s, 2000).stream().map(LabeledText::text)
                    .toList(), Cli.intOption(line, pieces, 128), Cli.intOption(line, texts, 5));
            if (line.hasOption(serve)) {
                ExplainBenchmark.predictWhileExplaining(s, r, chosen, Cli.intOption(line, requests, 40));
            } else {
                List<Integer> ks = new ArrayList<>();
                for (String k : line.getOptionValue(steps, "8,16,32,64").split(",")) {
                    ks.add(Integer.parseInt(k.trim()));
                }
                ExplainBenchmark.gapAndTime(s, r, chosen, ks);
            }
            return Cli.OK;
        });
    }

    /**
     * {@code --run dir [--conf f] [--texts n] [--repetitions n]}: the run's classifier over data.test's first n texts
     * (2,000), cut at 128, 256 and 512 word pieces and read in windows of 128, A B A B; {@code --serve
     * [--requests n]}: p50 of short /predict requests alone and beside a long review's, A B A B.
     */
    public static int longText(String[] args) {
        Option run = Option.builder().longOpt("run").hasArg().argName("run-folder").required().build();
        Option texts = Option.builder().longOpt("texts").hasArg().argName("n").type(Number.class).build();
        Option repetitions = Option.builder().longOpt("repetitions").hasArg().argName("n").type(Number.class).build();
        Option serve = Option.builder().longOpt("serve").desc("/predict p50 beside long requests").build();
        Option requests = Option.builder().longOpt("requests").hasArg().argName("n").type(Number.class).build();
        return Cli.run("BenchmarkLongText", args, options(CONF, run, texts, repetitions, serve, requests), line -> {
            Settings s = ConfigLoader.load(conf(line));
            if (line.hasOption(serve)) {
                LongTextBenchmark.shortBesideLong(s, new RunFolder(Path.of(line.getOptionValue(run))),
                        reviews(s, Cli.intOption(line, texts, 2000)).stream().map(LabeledText::text).toList(),
                        Cli.intOption(line, requests, 40));
                return Cli.OK;
            }
            LongTextBenchmark.run(new RunFolder(Path.of(line.getOptionValue(run))),
                    reviews(s, Cli.intOption(line, texts, 2000)), s.inference().precision(),
                    Cli.intOption(line, repetitions, 2));
            return Cli.OK;
        });
    }

    /** {@code --run dir --spark-home dir --job-jar jar [--rows n]}: Predict against Score, reviews from data.test. */
    public static int score(String[] args) {
        Option run = Option.builder().longOpt("run").hasArg().argName("run-folder").required().build();
        Option sparkHome = Option.builder().longOpt("spark-home").hasArg().argName("dir").required().build();
        Option jobJar = Option.builder().longOpt("job-jar").hasArg().argName("jar").required().build();
        Option rows = Option.builder().longOpt("rows").hasArg().argName("n").type(Number.class).build();
        return Cli.run("BenchmarkScore", args, options(run, sparkHome, jobJar, rows), line -> {
            Settings s = ConfigLoader.load(Cli.DEFAULT_EXPERIMENT);
            ScoreBenchmark.run(Path.of(line.getOptionValue(run)), reviews(s, Cli.intOption(line, rows, 2000)),
                    Path.of(line.getOptionValue(sparkHome)), Path.of(line.getOptionValue(jobJar)),
                    Path.of("target", "score-benchmark"), s.inference().precision());
            return Cli.OK;
        });
    }
}
