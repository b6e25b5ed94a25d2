package dev.bertclf.data;

import dev.bertclf.config.Settings.BadRowPolicy;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Labelled texts read from a CSV file with a header row (RFC 4180 quoting, UTF-8, optional BOM).
 *
 * @param skipped bad rows skipped under {@link BadRowPolicy#SKIP}, counted by reason
 */
public record CsvDataset(Path file, List<LabeledText> rows, Map<String, Integer> skipped) {
    private static final Logger log = LoggerFactory.getLogger(CsvDataset.class);

    /** Which columns hold the text and the label. */
    public record Columns(String text, String label) {
    }

    /** How a multi-label file gives each row's labels. */
    public sealed interface LabelSets {
        /** One column of label names joined by {@code separator}, as GoEmotions has them ({@code joy;surprise}). */
        record Joined(String column, String separator) implements LabelSets {
        }

        /**
         * One 0/1 column per label, as Jigsaw's toxic comments have them: the columns named, or, with {@code prefix},
         * every column whose name starts with it (the label is the name without it).
         */
        record Indicators(List<String> columns, String prefix) implements LabelSets {
        }
    }

    /**
     * Reads multi-label rows: each row's labels in {@link LabeledText#labels()}, in the order of the label set.
     * With {@code knownLabels} (null to take them from the file), other labels are bad rows; a row without any label
     * is a bad row unless {@code emptyAllowed}. Bad rows follow {@code policy}, each named by file, line and label.
     */
    public static CsvDataset readMultiLabel(Path file, String textColumn, LabelSets sets, BadRowPolicy policy,
                                            List<String> knownLabels, boolean emptyAllowed) {
        return parse(file, policy, header -> {
            int textIdx = column(header, textColumn, "text", file);
            RowLabels labels = sets instanceof LabelSets.Joined j ? joined(header, j, knownLabels, file)
                    : indicators(header, (LabelSets.Indicators) sets, knownLabels, file);
            return r -> {
                String problem = shapeProblem(r, header.size(), textIdx);
                if (problem != null) {
                    return Row.bad(problem);
                }
                Row row = labels.of(r);
                if (row.problem() == null && row.labels().isEmpty() && !emptyAllowed) {
                    return Row.bad("no label");
                }
                return row.problem() != null ? row : Row.good(r.get(textIdx), row.labels());
            };
        });
    }

    /** A row's labels, or what is wrong with them. */
    private record Row(String text, List<String> labels, String problem) {
        static Row good(String text, List<String> labels) {
            return new Row(text, labels, null);
        }

        static Row bad(String problem) {
            return new Row(null, List.of(), problem);
        }
    }

    @FunctionalInterface
    private interface RowLabels {
        Row of(CSVRecord r);
    }

    private static RowLabels joined(List<String> header, LabelSets.Joined j, List<String> known, Path file) {
        int idx = column(header, j.column(), "label", file);
        return r -> {
            Set<String> found = new LinkedHashSet<>();
            for (String part : r.get(idx).split(Pattern.quote(j.separator()), -1)) {
                String label = part.trim();
                if (label.isEmpty()) {
                    continue;
                }
                if (known != null && !known.contains(label)) {
                    return Row.bad("unknown label '" + label + "' (known: " + known + ")");
                }
                found.add(label);
            }
            List<String> ordered = new ArrayList<>(found);
            ordered.sort(known == null ? Comparator.naturalOrder()
                    : Comparator.comparingInt(known::indexOf));
            return Row.good(null, ordered);
        };
    }

    private static RowLabels indicators(List<String> header, LabelSets.Indicators ind, List<String> known, Path file) {
        List<String> columns = new ArrayList<>();
        if (ind.prefix() != null && !ind.prefix().isEmpty()) {
            header.stream().filter(h -> h.startsWith(ind.prefix())).forEach(columns::add);
            if (columns.isEmpty()) {
                throw new DataException(file + ": no column starting with '" + ind.prefix() + "' in header " + header);
            }
        } else {
            columns.addAll(ind.columns());
        }
        int[] idx = new int[columns.size()];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < idx.length; i++) {
            idx[i] = column(header, columns.get(i), "label", file);
            names.add(ind.prefix() == null ? columns.get(i) : columns.get(i).substring(ind.prefix().length()));
        }
        if (known != null && !new HashSet<>(known).equals(new HashSet<>(names))) {
            throw new DataException(file + ": label columns " + names + " are not the labels " + known);
        }
        return r -> {
            List<String> found = new ArrayList<>();
            for (int i = 0; i < idx.length; i++) {
                String v = r.get(idx[i]).trim();
                if (v.equals("1")) {
                    found.add(names.get(i));
                } else if (!v.equals("0")) {
                    return Row.bad("label '" + names.get(i) + "' (column " + columns.get(i) + ") is '" + v
                            + "', not 0 or 1");
                }
            }
            if (known != null) {
                found.sort(Comparator.comparingInt(known::indexOf));
            }
            return Row.good(null, found);
        };
    }

    /** Reads labelled rows; {@code knownLabels} (null to accept any) makes other labels bad rows. */
    public static CsvDataset read(Path file, Columns columns, BadRowPolicy policy, Collection<String> knownLabels) {
        return read(file, columns, policy, knownLabels, true);
    }

    /** Reads texts only ({@code label} column ignored, may be absent). */
    public static CsvDataset readTexts(Path file, String textColumn, BadRowPolicy policy) {
        return read(file, new Columns(textColumn, null), policy, null, false);
    }

    private static CsvDataset read(Path file, Columns columns, BadRowPolicy policy, Collection<String> knownLabels,
                                   boolean labelled) {
        return parse(file, policy, header -> {
            int textIdx = column(header, columns.text(), "text", file);
            int labelIdx = labelled ? column(header, columns.label(), "label", file) : -1;
            return r -> {
                String problem = problem(r, header.size(), textIdx, labelIdx, knownLabels);
                return problem != null ? Row.bad(problem)
                        : Row.good(r.get(textIdx), labelled ? List.of(r.get(labelIdx).trim()) : List.of());
            };
        });
    }

    /** Reads every record of {@code file} into a row, or a bad row that {@code policy} stops at or skips. */
    private static CsvDataset parse(Path file, BadRowPolicy policy,
                                    Function<List<String>, RowLabels> rowsOfHeader) {
        if (!Files.isRegularFile(file)) {
            throw new DataException("Data file not found: " + file.toAbsolutePath());
        }
        List<LabeledText> rows = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true).build();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser parser = format.parse(new BomSkippingReader(reader))) {
            RowLabels rowOf = rowsOfHeader.apply(parser.getHeaderNames());
            Iterator<CSVRecord> it = parser.iterator();
            for (Numbered n = next(parser, it, file); n != null; n = next(parser, it, file)) {
                Row row = rowOf.of(n.record());
                if (row.problem() == null) {
                    rows.add(new LabeledText(row.text(), row.labels(), n.line()));
                } else {
                    badRow(file, n.line(), row.problem(), policy, skipped);
                }
            }
        } catch (CharacterCodingException e) {
            throw new DataException(file + ": not UTF-8 text", e);
        } catch (IOException | UncheckedIOException e) {
            throw new DataException("Cannot read " + file + ": " + rootMessage(e), e);
        } catch (IllegalArgumentException e) {
            throw new DataException(file + ": bad header: " + e.getMessage(), e);
        }
        if (!skipped.isEmpty()) {
            log.warn("{}: skipped bad rows {}", file, skipped);
        }
        if (rows.isEmpty()) {
            throw new DataException(file + ": no usable rows");
        }
        return new CsvDataset(file, rows, skipped);
    }

    /** A CSV record and the line it starts on. */
    private record Numbered(CSVRecord record, long line) {
    }

    /** The next record, or null at the end; malformed CSV is an error naming the line. */
    private static Numbered next(CSVParser parser, Iterator<CSVRecord> it, Path file) {
        long line = parser.getCurrentLineNumber() + 1;
        try {
            return it.hasNext() ? new Numbered(it.next(), line) : null;
        } catch (UncheckedIOException | IllegalStateException e) {
            throw new DataException(file + ": malformed CSV near line " + line + ": " + rootMessage(e), e);
        }
    }

    /** A record with the wrong number of columns or an empty text, or null. */
    private static String shapeProblem(CSVRecord r, int columns, int textIdx) {
        if (r.size() != columns) {
            return "expected " + columns + " columns, found " + r.size();
        }
        return r.get(textIdx).isBlank() ? "empty text" : null;
    }

    /** What makes a record a bad row, or null for a good one ({@code labelIdx} < 0: texts only). */
    private static String problem(CSVRecord r, int columns, int textIdx, int labelIdx,
                                  Collection<String> knownLabels) {
        String shape = shapeProblem(r, columns, textIdx);
        if (shape != null) {
            return shape;
        }
        String label = labelIdx < 0 ? null : r.get(labelIdx).trim();
        if (label != null && label.isEmpty()) {
            return "missing label";
        } else if (knownLabels != null && !knownLabels.contains(label)) {
            return "unknown label '" + label + "' (known: " + new TreeSet<>(knownLabels) + ")";
        }
        return null;
    }

    /** Stops at a bad row, naming file and line, or counts it by reason under {@link BadRowPolicy#SKIP}. */
    private static void badRow(Path file, long line, String problem, BadRowPolicy policy,
                               Map<String, Integer> skipped) {
        if (policy == BadRowPolicy.FAIL) {
            throw new DataException(file + ": line " + line + ": " + problem
                    + " (set bertclf.data.bad-rows = skip to skip such rows)");
        }
        skipped.merge(problem.startsWith("unknown label") ? "unknown label"
                : problem.startsWith("expected") ? "wrong column count"
                : problem.endsWith("not 0 or 1") ? "label value not 0 or 1" : problem, 1, Integer::sum);
    }

    private static int column(List<String> header, String name, String what, Path file) {
        int i = header.indexOf(name);
        if (i < 0) {
            throw new DataException(file + ": no " + what + " column '" + name + "' in header " + header);
        }
        return i;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }

    /** Sorted distinct labels of the rows (of every row's labels, for multi-label data). */
    public List<String> labels() {
        return List.copyOf(new TreeSet<>(rows.stream().flatMap(r -> r.labels().stream()).toList()));
    }

    /** Drops a leading UTF-8 byte-order mark, which would otherwise become part of the first column name. */
    private static final class BomSkippingReader extends java.io.FilterReader {
        private boolean first = true;

        BomSkippingReader(Reader in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            if (first) {
                first = false;
                if (c == '\uFEFF') {
                    c = super.read();
                }
            }
            return c;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            if (first && n > 0) {
                first = false;
                if (buf[off] == '\uFEFF') {
                    System.arraycopy(buf, off + 1, buf, off, n - 1);
                    n--;
                    if (n == 0) {
                        return read(buf, off, len);
                    }
                }
            }
            return n;
        }
    }
}
