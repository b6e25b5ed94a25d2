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
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

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
        if (!Files.isRegularFile(file)) {
            throw new DataException("Data file not found: " + file.toAbsolutePath());
        }
        List<LabeledText> rows = new ArrayList<>();
        Map<String, Integer> skipped = new TreeMap<>();
        CSVFormat format = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true).build();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             CSVParser parser = format.parse(new BomSkippingReader(reader))) {
            List<String> header = parser.getHeaderNames();
            int textIdx = column(header, columns.text(), "text", file);
            int labelIdx = labelled ? column(header, columns.label(), "label", file) : -1;
            Iterator<CSVRecord> it = parser.iterator();
            for (Numbered n = next(parser, it, file); n != null; n = next(parser, it, file)) {
                CSVRecord r = n.record();
                String problem = problem(r, header.size(), textIdx, labelIdx, knownLabels);
                if (problem == null) {
                    rows.add(new LabeledText(r.get(textIdx), labelled ? r.get(labelIdx).trim() : null, n.line()));
                } else {
                    badRow(file, n.line(), problem, policy, skipped);
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

    /** What makes a record a bad row, or null for a good one ({@code labelIdx} < 0: texts only). */
    private static String problem(CSVRecord r, int columns, int textIdx, int labelIdx,
                                  Collection<String> knownLabels) {
        if (r.size() != columns) {
            return "expected " + columns + " columns, found " + r.size();
        }
        String label = labelIdx < 0 ? null : r.get(labelIdx).trim();
        if (r.get(textIdx).isBlank()) {
            return "empty text";
        } else if (label != null && label.isEmpty()) {
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
                : problem.startsWith("expected") ? "wrong column count" : problem, 1, Integer::sum);
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

    /** Sorted distinct labels of the rows. */
    public List<String> labels() {
        return List.copyOf(new TreeSet<>(rows.stream().map(LabeledText::label).toList()));
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
