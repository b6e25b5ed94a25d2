package dev.bertclf.score;

import dev.bertclf.config.Settings;
import dev.bertclf.config.Settings.BadRowPolicy;
import dev.bertclf.data.DataException;
import dev.bertclf.model.Explainer;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;
import dev.bertclf.io.MallocSettings;
import dev.bertclf.io.ProgressBars;
import me.tongfei.progressbar.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Batch scoring with Spark, as named steps on the driver: open the input, check its columns, count its rows and
 * bad rows, score every partition on the executors, write the result atomically, and check that every row came
 * out. Input problems are found before any scoring starts and reported as {@link DataException}s.
 */
public final class SparkScoring {
    private static final Logger log = LoggerFactory.getLogger(SparkScoring.class);

    private SparkScoring() {
    }

    /**
     * A session on {@code local[*]}, unless {@code spark.master} is set (by spark-submit or {@code -D}). Executors
     * started for it get the malloc settings of {@link MallocSettings} in their environment, unless the
     * submission sets {@code spark.executorEnv.*} itself.
     */
    public static SparkSession session(String appName) {
        SparkConf conf = new SparkConf().setAppName(appName);
        if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
            conf.setIfMissing("spark.ui.enabled", "false");
        }
        MallocSettings.SPARK_EXECUTOR_ENV.forEach(conf::setIfMissing);
        if (conf.get("spark.master").startsWith("local") && !MallocSettings.inEffect(System.getenv())) {
            log.warn("This JVM scores without glibc's malloc settings ({}): in a fresh JVM, forward passes run up to "
                    + "4-5 times slower. Set them in the environment of spark-submit, or run Score through "
                    + "mvn exec:java, which sets them.", MallocSettings.ENVIRONMENT);
        }
        return SparkSession.builder().config(conf).getOrCreate();
    }

    /**
     * Whether {@link #session}'s executors run in this JVM: {@code spark.master} unset (so {@code local[*]}) or
     * {@code local[...]}.
     */
    public static boolean executorsRunHere() {
        return new SparkConf().get("spark.master", "local[*]").startsWith("local");
    }

    public static ScoreReport score(SparkSession spark, ScoreJob job) {
        long start = System.nanoTime();
        job.run().requireServable();
        Settings.OutputFormat format = TableFiles.outputFormat(job.output(), job.settings().format());
        TableFiles.requireFreeOutput(spark, job.output(), job.settings().overwrite());

        Dataset<Row> input = TableFiles.read(spark, job.input(), job.badRows());
        List<String> kept = keptColumns(input, job);
        Counts counts = count(spark, input, job);
        Dataset<Row> good = job.badRows() == BadRowPolicy.SKIP ? input.filter(functions.not(emptyText(job))) : input;
        long expected = counts.rows() - counts.skipped();
        int threads = job.settings().threads() > 0 ? job.settings().threads()
                : executorCores(spark.sparkContext().getConf());
        if (job.settings().explainTopK() > 0) {
            planExplanations(job, good, expected, threads);
        }

        LongAccumulator done = spark.sparkContext().longAccumulator("rows scored");
        Dataset<Row> scored = spread(spark, good, expected).mapPartitions(scorer(input, job, kept, threads, done),
                Encoders.row(outputSchema(input.schema(), kept, job)));
        try (ProgressBar bar = ProgressBars.of("Score", expected);
             AutoCloseable progress = follow(done, bar)) {
            TableFiles.writeAtomically(scored, job.output(), format, job.settings().overwrite());
        } catch (Exception e) {
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }

        long written = TableFiles.readAll(spark, job.output()).count();
        if (written != expected) {
            throw new IllegalStateException(job.output() + " holds " + written + " rows, expected " + expected);
        }
        return new ScoreReport(counts.rows(), counts.skipped(), written, job.output(), format,
                (System.nanoTime() - start) / 1e9);
    }

    /** Score's columns of explanations, after the label and probabilities, when {@code score.explain.top-k > 0}. */
    static final String TOP_WORDS = "top_words";
    static final String COMPLETENESS_GAP = "completeness_gap";

    /** The columns the output adds to the input's: the task's, and the explanations' when asked for. */
    private static List<String> addedColumns(ScoreJob job) {
        List<String> added = new ArrayList<>(job.run().task().outputColumns());
        if (job.settings().explainTopK() > 0) {
            added.addAll(List.of(TOP_WORDS, COMPLETENESS_GAP));
        }
        return added;
    }

    /**
     * Refuses a job that would explain more rows than {@code score.explain.max-rows}, before anything is loaded,
     * and says what the explanations will take: with executors in this JVM, from the time of the first row's
     * explanation here (its model and explainer then stay loaded for the job); on a cluster, the passes a row
     * costs, as the executors' machines are not this one.
     */
    private static void planExplanations(ScoreJob job, Dataset<Row> good, long rows, int threads) {
        long most = job.settings().explainMaxRows();
        int steps = job.explain().steps();
        if (most > 0 && rows > most) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s has %,d rows to explain, more than "
                    + "score.explain.max-rows = %,d: each costs about %d forward+backward passes. Raise it (0 = no "
                    + "limit) to go on, or score without explanations (score.explain.top-k = 0)", job.input(), rows,
                    most, steps));
        }
        if (!executorsRunHere()) {
            log.info("Explaining {} rows: each costs about {} forward+backward passes of BERT (twice that when its "
                    + "completeness gap is over explain.max-gap), one row at a time on each executor", rows, steps);
            return;
        }
        String first = good.select(job.textColumn()).first().getString(0);
        ExecutorModels.Model model = ExecutorModels.model(job.run().dir().toAbsolutePath().toString(), threads,
                job.precision());
        // the first explanation also loads the explainer and grows the process to its passes' memory: the second is
        // timed
        model.explain(first, job.explain());
        long start = System.nanoTime();
        Explainer.Explained e = model.explain(first, job.explain());
        double seconds = (System.nanoTime() - start) / 1e9;
        long total = Math.round(rows * seconds);
        Explainer.Explanation x = e.explanations().get(0);
        log.info(String.format(Locale.ROOT, "Explaining %,d rows: about %d h %02d min %02d s on this machine, one row "
                + "at a time (the first row took %.1f s the second time: %d word pieces, %d steps)", rows, total / 3600,
                total / 60 % 60, total % 60, seconds, x.pieces().size(), x.steps()));
    }

    /** Rows per partition when the input has too few partitions: about 90 s of BERT-base on 2 cores. */
    static final long ROWS_PER_PARTITION = 256;

    /**
     * At least one partition per task slot of the cluster ({@code spark.default.parallelism}), and no more than
     * {@link #ROWS_PER_PARTITION} rows in each, so that progress shows and a retried task repeats little. A single
     * CSV file with line breaks in quoted fields is read as one partition, which would keep every core but one
     * idle.
     */
    private static Dataset<Row> spread(SparkSession spark, Dataset<Row> rows, long count) {
        int wanted = (int) Math.max(spark.sparkContext().defaultParallelism(),
                Math.min(100_000, (count + ROWS_PER_PARTITION - 1) / ROWS_PER_PARTITION));
        return rows.rdd().getNumPartitions() < wanted ? rows.repartition(wanted) : rows;
    }

    /** Moves the progress bar to the rows the finished tasks scored, every second, until closed. */
    private static AutoCloseable follow(LongAccumulator done, ProgressBar bar) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "score-progress");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> bar.stepTo(done.value()), 1, 1, TimeUnit.SECONDS);
        return () -> {
            timer.shutdownNow();
            bar.stepTo(done.value());
        };
    }

    /** Every input column except the text, checked against the columns the output adds. */
    private static List<String> keptColumns(Dataset<Row> input, ScoreJob job) {
        List<String> columns = Arrays.asList(input.columns());
        if (!columns.contains(job.textColumn())) {
            throw new DataException(job.input() + " has no text column '" + job.textColumn() + "' (columns: "
                    + String.join(", ", columns) + "); set -Dbertclf.data.text-column");
        }
        StructField text = input.schema().apply(job.textColumn());
        if (!text.dataType().equals(DataTypes.StringType)) {
            throw new DataException("column '" + job.textColumn() + "' of " + job.input() + " holds "
                    + text.dataType().simpleString() + ", not text");
        }
        List<String> kept = columns.stream().filter(c -> !c.equals(job.textColumn())).toList();
        for (String added : addedColumns(job)) {
            if (kept.contains(added)) {
                throw new DataException(job.input() + " already has a column '" + added
                        + "', which the output adds; rename it first");
            }
        }
        return kept;
    }

    private record Counts(long rows, long skipped) {
    }

    /**
     * Rows in the input and rows with an empty text, in one pass; an empty input, and any bad row under
     * {@code fail}, stop the job here (malformed CSV records already did, while counting). Under {@code skip} a
     * second pass counts the records the reader dropped as malformed.
     */
    private static Counts count(SparkSession spark, Dataset<Row> input, ScoreJob job) {
        Row counts = TableFiles.guard(job.input(), () -> input.agg(functions.count(functions.lit(1)),
                functions.count(functions.when(emptyText(job), 1))).first());
        long read = counts.getLong(0);
        long empty = counts.getLong(1);
        long rows = job.badRows() == BadRowPolicy.SKIP
                ? TableFiles.guard(job.input(), () -> TableFiles.readAll(spark, job.input()).count()) : read;
        if (rows == 0) {
            throw new DataException(job.input() + " has no rows to score");
        }
        if (job.badRows() == BadRowPolicy.FAIL) {
            if (empty > 0) {
                Row first = TableFiles.guard(job.input(), () -> input.filter(emptyText(job))
                        .withColumn("file", functions.input_file_name()).first());
                throw new DataException("empty text in column '" + job.textColumn() + "' of " + describe(first)
                        + "; set -Dbertclf.data.bad-rows=skip to leave such rows out");
            }
            return new Counts(rows, 0);
        }
        long skipped = rows - (read - empty);
        if (skipped > 0) {
            log.warn("Skipping {} of {} rows of {}: malformed, or no text in column '{}'", skipped, rows,
                    job.input(), job.textColumn());
        }
        return new Counts(rows, skipped);
    }

    private static String describe(Row r) {
        List<String> fields = new ArrayList<>();
        String[] names = r.schema().fieldNames();
        for (int i = 0; i < names.length - 1; i++) {
            fields.add(names[i] + "=" + r.get(i));
        }
        return r.getString(names.length - 1) + " (row " + String.join(", ", fields) + ")";
    }

    private static Column emptyText(ScoreJob job) {
        Column text = functions.col(job.textColumn());
        return text.isNull().or(functions.trim(text).equalTo(""));
    }

    private static PartitionScorer scorer(Dataset<Row> input, ScoreJob job, List<String> kept, int threads,
                                          LongAccumulator done) {
        List<String> columns = Arrays.asList(input.columns());
        int[] keptIndexes = kept.stream().mapToInt(columns::indexOf).toArray();
        log.info("Scoring {} with {} in batches of {}, {} ND4J threads per forward pass", job.input(),
                job.run().id(), job.settings().batchSize(), threads == 0 ? "all the executor's" : threads);
        return new PartitionScorer(job.run().dir().toAbsolutePath().toString(), columns.indexOf(job.textColumn()),
                keptIndexes, job.settings().batchSize(), threads, job.precision(), job.settings().explainTopK(),
                job.explain(), done);
    }

    /**
     * The cores each executor was given: N of {@code local[N]}, the machine's for {@code local[*]},
     * {@code spark.executor.cores} when set, else 0 (the executor's machine decides).
     */
    static int executorCores(SparkConf conf) {
        String master = conf.get("spark.master", "local[*]").toLowerCase(Locale.ROOT);
        if (master.equals("local")) {
            return 1;
        }
        if (master.startsWith("local[")) {
            String n = master.substring(6, master.indexOf(']')).split(",")[0].trim();
            return n.equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(n);
        }
        return conf.contains("spark.executor.cores") ? conf.getInt("spark.executor.cores", 0) : 0;
    }

    private static StructType outputSchema(StructType input, List<String> kept, ScoreJob job) {
        List<StructField> fields = new ArrayList<>();
        kept.forEach(c -> fields.add(input.apply(c)));
        List<String> added = addedColumns(job);
        for (int i = 0; i < added.size(); i++) {
            boolean text = i == 0 || added.get(i).equals(TOP_WORDS); // the label (or labels), the top words' JSON
            fields.add(DataTypes.createStructField(added.get(i), text ? DataTypes.StringType : DataTypes.DoubleType,
                    false));
        }
        return DataTypes.createStructType(fields);
    }
}
