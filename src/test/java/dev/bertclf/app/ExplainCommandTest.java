package dev.bertclf.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.RealBert;
import dev.bertclf.TestSettings;
import dev.bertclf.data.LabeledText;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Explain} writes a self-contained HTML report with a highlighted row per text and a JSON lines file of the
 * same explanations, each row with the label Predict gives it.
 */
@Tag("slow")
class ExplainCommandTest {
    @TempDir
    Path tmp;

    @Test
    void explainWritesAnHtmlRowAndAJsonLinePerTextWhoseWordsAreTheTextsAndWhoseLabelsArePredicts()
            throws Exception {
        RunFolder run = RealBert.tinyRun();
        List<LabeledText> reviews = new ArrayList<>(RealBert.reviews(RealBert.IMDB_TEST, 3));
        reviews.add(new LabeledText("Café crème & <b>brûlée</b>: 😍 un film 电影 génial!", "positive", 5));
        Path csv = TestSettings.writeCsv(tmp.resolve("in.csv"), reviews);
        Path html = tmp.resolve("report.html");
        Path predictions = tmp.resolve("predictions.csv");
        System.setProperty("bertclf.explain.steps", "16");
        try {
            assertEquals(0, ExplainCommand.main(new String[]{run.dir().toString(), csv.toString(), html.toString()}));
        } finally {
            System.clearProperty("bertclf.explain.steps");
        }
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), csv.toString(),
                predictions.toString()}));
        List<String> predicted = Files.readAllLines(predictions).subList(1, reviews.size() + 1);

        List<String> lines = Files.readAllLines(tmp.resolve("report.jsonl"), StandardCharsets.UTF_8);
        assertEquals(reviews.size(), lines.size());
        for (int i = 0; i < lines.size(); i++) {
            JsonNode row = new ObjectMapper().readTree(lines.get(i));
            String text = reviews.get(i).text();
            String[] p = predicted.get(i).split(",");
            assertEquals(Long.parseLong(p[0]), row.get("line").asLong(), "the source line, as Predict gives it");
            JsonNode e = row.get("explanations").get(0);
            assertEquals(p[1], e.get("label").asText(), "the label Predict gives line " + p[0]);
            assertEquals(16, e.get("steps").asInt());
            for (JsonNode w : e.get("words")) {
                assertEquals(text.substring(w.get("start").asInt(), w.get("end").asInt()), w.get("word").asText());
            }
        }

        String report = Files.readString(html, StandardCharsets.UTF_8);
        assertTrue(report.startsWith("<!DOCTYPE html>") && report.endsWith("</html>\n"));
        assertTrue(!report.contains("<script") && !report.contains("src=") && !report.contains("href="),
                "self-contained");
        assertEquals(reviews.size(), report.split("<div class=\"row\">", -1).length - 1, "a row per text");
        assertTrue(!report.contains("<b>brûlée") && report.contains("&lt;</mark>"), "the text's markup is escaped");
        assertTrue(report.contains(">brûlée</mark>") && report.contains(">😍</mark>") && report.contains(">电</mark>"),
                "accented, emoji ([UNK]) and CJK words are marked as written");
    }

    @Test
    void aMissingInputFileIsRefusedWithExitCodeTwoAndNothingWritten() throws Exception {
        RunFolder run = RealBert.tinyRun();
        Path html = tmp.resolve("report.html");
        assertEquals(2, ExplainCommand.main(new String[]{run.dir().toString(), tmp.resolve("none.csv").toString(),
                html.toString()}));
        assertTrue(!Files.exists(html) && !Files.exists(tmp.resolve("report.jsonl")));
    }
}
