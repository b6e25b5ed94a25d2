package dev.bertclf.score;

import dev.bertclf.config.Settings.BadRowPolicy;
import dev.bertclf.config.Settings.OutputFormat;
import dev.bertclf.data.DataException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * Tables on any Hadoop file system (local paths included): CSV with a header row (RFC 4180: quoted fields may hold
 * commas, doubled quotes and line breaks; UTF-8, with or without a byte-order mark) or Parquet, as one file or a
 * folder of part files; written through a hidden staging folder that is renamed into place only when complete.
 */
final class TableFiles {
    private TableFiles() {
    }

    /** The input, malformed CSV records failing ({@code fail}) or dropped ({@code skip}) when read. */
    static Dataset<Row> read(SparkSession spark, String path, BadRowPolicy policy) {
        return open(spark, path, policy == BadRowPolicy.SKIP ? "DROPMALFORMED" : "FAILFAST");
    }

    /** Every record, malformed ones included (their missing fields empty): for counting. */
    static Dataset<Row> readAll(SparkSession spark, String path) {
        return open(spark, path, "PERMISSIVE");
    }

    private static Dataset<Row> open(SparkSession spark, String path, String csvMode) {
        // counting must parse every field, or malformed records would be counted as good ones
        spark.conf().set("spark.sql.csv.parser.columnPruning.enabled", "false");
        return guard(path, () -> {
            boolean csv = inputIsCsv(spark, path);
            DataFrameReader r = spark.read();
            Dataset<Row> table = csv ? r.option("header", "true").option("multiLine", "true").option("escape", "\"")
                    .option("encoding", "UTF-8").option("mode", csvMode).csv(path) : r.parquet(path);
            if (table.columns().length == 0) {
                throw new DataException(path + " is empty: no header row");
            }
            return withoutByteOrderMark(table);
        });
    }

    /** A UTF-8 byte-order mark before the first header name is not part of the name. */
    private static Dataset<Row> withoutByteOrderMark(Dataset<Row> table) {
        String first = table.columns()[0];
        return first.startsWith("\uFEFF") ? table.withColumnRenamed(first, first.substring(1)) : table;
    }

    /** CSV or Parquet, from the file's extension or the part files of a folder. */
    private static boolean inputIsCsv(SparkSession spark, String input) throws IOException {
        Path p = new Path(input);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        if (!fs.exists(p)) {
            throw new DataException("input not found: " + input);
        }
        List<String> names = fs.getFileStatus(p).isDirectory()
                ? Arrays.stream(fs.listStatus(p)).filter(FileStatus::isFile).map(f -> f.getPath().getName())
                .filter(n -> !n.startsWith("_") && !n.startsWith(".")).toList() : List.of(p.getName());
        if (names.isEmpty()) {
            throw new DataException("input folder " + input + " holds no files");
        }
        boolean csv = names.stream().allMatch(n -> n.toLowerCase(Locale.ROOT).endsWith(".csv"));
        boolean parquet = names.stream().allMatch(n -> n.toLowerCase(Locale.ROOT).endsWith(".parquet"));
        if (!csv && !parquet) {
            throw new DataException("cannot tell the format of " + input + ": expected .csv or .parquet files, found "
                    + names.subList(0, Math.min(5, names.size())));
        }
        return csv;
    }

    static OutputFormat outputFormat(String output, OutputFormat chosen) {
        if (chosen != OutputFormat.AUTO) {
            return chosen;
        }
        return output.toLowerCase(Locale.ROOT).replaceAll("/+$", "").endsWith(".csv") ? OutputFormat.CSV
                : OutputFormat.PARQUET;
    }

    static void requireFreeOutput(SparkSession spark, String output, boolean overwrite) {
        if (!overwrite && exists(spark, output)) {
            throw new DataException("output " + output + " already exists; remove it, choose another path, or set "
                    + "-Dbertclf.score.overwrite=true");
        }
    }

    private static boolean exists(SparkSession spark, String path) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes the rows into a hidden staging folder beside {@code output}, then renames it to {@code output}: a
     * job that fails leaves nothing at the output path (the staging folder is deleted).
     */
    static void writeAtomically(Dataset<Row> rows, String output, OutputFormat format, boolean overwrite) {
        try {
            Path out = new Path(output);
            FileSystem fs = out.getFileSystem(rows.sparkSession().sparkContext().hadoopConfiguration());
            out = fs.makeQualified(out);
            Path staging = new Path(out.getParent(), "." + out.getName() + ".incomplete-" + UUID.randomUUID());
            try {
                rows.write().format(format == OutputFormat.CSV ? "csv" : "parquet").option("header", "true")
                        .option("escape", "\"").save(staging.toString());
                if (overwrite && fs.exists(out)) {
                    fs.delete(out, true);
                }
                if (!fs.rename(staging, out)) {
                    throw new IOException("cannot rename " + staging + " to " + out);
                }
            } finally {
                if (fs.exists(staging)) {
                    fs.delete(staging, true);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + output + ": " + e.getMessage(), e);
        }
    }

    /**
     * Runs a Spark action on the input: a missing, unreadable or corrupt input, or a malformed record under
     * {@code fail}, becomes a {@link DataException} naming the input and the root cause.
     */
    static <T> T guard(String input, IoSupplier<T> action) {
        try {
            return action.get();
        } catch (DataException e) {
            throw e;
        } catch (Exception e) {
            String reason = e.toString();
            for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
                if (t.getMessage() != null && !t.getMessage().isBlank()) {
                    reason = t.getMessage();
                }
            }
            throw new DataException("cannot read " + input + ": " + firstLine(reason), e);
        }
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @FunctionalInterface
    interface IoSupplier<T> {
        T get() throws Exception;
    }
}
