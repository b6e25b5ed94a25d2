package dev.bertclf;

import dev.bertclf.config.ConfigLoader;
import dev.bertclf.config.Settings;
import dev.bertclf.data.LabeledText;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/** Settings and data files for tests, built from reference.conf plus overrides. */
public final class TestSettings {
    private TestSettings() {
    }

    /** Reference settings with {@code key=value} overrides (keys without the {@code bertclf.} prefix). */
    public static Settings with(String... keyValues) {
        Properties p = new Properties();
        for (String kv : keyValues) {
            int eq = kv.indexOf('=');
            p.setProperty(ConfigLoader.ROOT + "." + kv.substring(0, eq), kv.substring(eq + 1));
        }
        return ConfigLoader.load(null, p);
    }

    /** Writes rows as a {@code review,sentiment} CSV. */
    public static Path writeCsv(Path file, List<LabeledText> rows) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
             CSVPrinter p = new CSVPrinter(w, CSVFormat.RFC4180.builder().setHeader("review", "sentiment").build())) {
            for (LabeledText r : rows) {
                p.printRecord(r.text(), r.label());
            }
        }
        return file;
    }
}
