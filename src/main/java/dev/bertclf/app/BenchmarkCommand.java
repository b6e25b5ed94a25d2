package dev.bertclf.app;

import dev.bertclf.bench.ForwardBenchmark;
import dev.bertclf.bench.GemmBenchmark;
import dev.bertclf.bench.PeerBenchmark;
import dev.bertclf.bench.ScoreBenchmark;
import dev.bertclf.bench.ServeBenchmark;
import dev.bertclf.bench.TrainingBenchmark;
import dev.bertclf.config.Settings;
import dev.bertclf.data.CsvDataset;
import dev.bertclf.data.LabeledText;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The benchmark commands (figures, not tests). Reviews come from {@code bertclf.data.test}; the default
 * experiment's settings apply unless a conf file is given.
 */
public final class BenchmarkCommand {
    private BenchmarkCommand() {
    }

    private static List<LabeledText> reviews(Settings s, int n) {
        List<LabeledText> rows = CsvDataset.read(s.data().test(), new CsvDataset.Columns(s.data().textColumn(),
                s.data().labelColumn()), Settings.BadRowPolicy.SKIP, null).rows();
        return rows.subList(0, Math.min(n, rows.size()));
    }

    /**
     * Args: [conf]. {@code --profile [conf batch seqLen]}: where one forward pass's time goes (by default 8x128),
     * as Markdown.
     */
    public static int forward(String[] args) {
        if (args.length > 0 && args[0].equals("--profile")) {
            return Cli.run("BenchmarkForward", () -> {
                String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
                Settings s = Cli.settings(rest.length > 0 ? new String[]{rest[0]} : rest);
                int size = rest.length == 3 ? Integer.parseInt(rest[1]) : 8;
                System.out.println(ForwardBenchmark.profile(s, reviews(s, size), size,
                        rest.length == 3 ? Integer.parseInt(rest[2]) : 128));
                return Cli.OK;
            });
        }
        return Cli.run("BenchmarkForward", () -> {
            Settings s = Cli.settings(args);
            ForwardBenchmark.run(s, reviews(s, 8));
            return Cli.OK;
        });
    }

    /**
     * Args: [conf] or [conf batch seqLen frozenLayers]; by default 8x128, 16x128 and 16x128 with 6 frozen.
     * {@code --peer <torch_bert_peer.py> [repetitions]}: the product against the PyTorch peer, A B A B, at 16x128
     * full and with 6 frozen layers, and forward at 8x128 and 1x64 against TF and the peer.
     * {@code --profile [conf batch seqLen frozenLayers]}: where one training step's time goes, as Markdown.
     */
    public static int training(String[] args) {
        if (args.length > 0 && args[0].equals("--peer")) {
            return Cli.run("BenchmarkTraining", () -> {
                Settings s = Cli.settings(new String[0]);
                PeerBenchmark.run(Path.of(args[1]), Cli.DEFAULT_EXPERIMENT.toString(),
                        args.length > 2 ? Integer.parseInt(args[2]) : 2,
                        List.of(new int[]{16, 128, 0}, new int[]{16, 128, 6}), s.data().test().toString());
                return Cli.OK;
            });
        }
        if (args.length > 0 && args[0].equals("--profile")) {
            return Cli.run("BenchmarkTraining", () -> {
                String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
                Settings s = Cli.settings(rest.length > 0 ? new String[]{rest[0]} : rest);
                TrainingBenchmark.Shape shape = rest.length == 4 ? new TrainingBenchmark.Shape(
                        Integer.parseInt(rest[1]), Integer.parseInt(rest[2]), Integer.parseInt(rest[3]))
                        : new TrainingBenchmark.Shape(16, 128, 0);
                System.out.println(TrainingBenchmark.profile(s, reviews(s, 12 * 16), shape, 3));
                return Cli.OK;
            });
        }
        return Cli.run("BenchmarkTraining", () -> {
            Settings s = Cli.settings(args.length > 0 ? new String[]{args[0]} : args);
            List<TrainingBenchmark.Shape> shapes = new ArrayList<>();
            if (args.length == 4) {
                shapes.add(new TrainingBenchmark.Shape(Integer.parseInt(args[1]), Integer.parseInt(args[2]),
                        Integer.parseInt(args[3])));
            } else {
                shapes.add(new TrainingBenchmark.Shape(8, 128, 0));
                shapes.add(new TrainingBenchmark.Shape(16, 128, 0));
                shapes.add(new TrainingBenchmark.Shape(16, 128, 6));
            }
            TrainingBenchmark.run(s, reviews(s, 12 * 16), shapes);
            return Cli.OK;
        });
    }

    /** No args: fp32 against bf16 matmuls at BERT's largest shape, and the CPU's bf16 and AMX flags. */
    public static int gemm(String[] args) {
        return Cli.run("BenchmarkGemm", () -> {
            GemmBenchmark.run();
            return Cli.OK;
        });
    }

    public static int serve(String[] args) {
        return Cli.run("BenchmarkServe", () -> {
            Settings s = Cli.settings(args);
            ServeBenchmark.run(s, reviews(s, 64));
            return Cli.OK;
        });
    }

    /** Args: {@code <run-folder> <spark-home> <job-jar> [rows]}: Predict vs Score, reviews from data.test. */
    public static int score(String[] args) {
        return Cli.run("BenchmarkScore", () -> {
            if (args.length < 3) {
                System.err.println("usage: BenchmarkScore <run-folder> <spark-home> <job-jar> [rows]");
                return Cli.BAD_INPUT;
            }
            Settings s = Cli.settings(new String[0]);
            ScoreBenchmark.run(Path.of(args[0]), reviews(s, args.length > 3 ? Integer.parseInt(args[3]) : 2000),
                    Path.of(args[1]), Path.of(args[2]), Path.of("target", "score-benchmark"),
                    s.inference().precision());
            return Cli.OK;
        });
    }
}
