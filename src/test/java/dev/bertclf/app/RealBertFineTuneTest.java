package dev.bertclf.app;

import dev.bertclf.train.TrainingState;
import dev.bertclf.RealBert;
import dev.bertclf.TestSettings;
import dev.bertclf.CpuFeatures;
import dev.bertclf.config.Settings;
import dev.bertclf.config.Settings.Precision;
import dev.bertclf.data.LabeledText;
import dev.bertclf.data.Featurizer;
import dev.bertclf.data.TextNormalization;
import dev.bertclf.train.Evaluator;
import dev.bertclf.model.Classifier;
import dev.bertclf.run.RunFolder;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.serve.PredictionServer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short real fine-tune (the first 2 encoder layers of BERT-base, a few dozen real reviews): the loss falls, the
 * run folder is complete, and the saved model predicts exactly what the trained graph predicts.
 */
@Tag("slow")
class RealBertFineTuneTest {
    @TempDir
    Path tmp;

    @Test
    void shortFineTuneLearnsAndRoundTrips() throws Exception {
        RealBert.TinyImdb data = RealBert.tinyImdb(tmp);
        Path test = data.test();
        Settings s = TestSettings.with("experiment=tiny", "data.train=" + data.train(), "data.test=" + test,
                "data.validation=8", "data.download.enabled=false", "model.encoder-layers=2",
                "features.max-length=48", "features.inference-max-length=64", "train.epochs=8", "train.batch-size=8",
                "train.learning-rate=1.5e-4",
                "train.schedule=constant", "train.warmup=0", "train.checkpoint-every=0",
                "train.runs-dir=" + tmp.resolve("runs"),
                "train.eval-batch-size=8", "train.keep-best=false");

        TrainingApp.Result r = TrainingApp.run(s);

        List<TrainingState.Step> steps = r.state().steps();
        assertEquals(8 * 4, steps.size());
        double first = steps.subList(0, 4).stream().mapToDouble(TrainingState.Step::loss).average().orElseThrow();
        double last = steps.subList(24, 32).stream().mapToDouble(TrainingState.Step::loss).average().orElseThrow();
        System.out.printf("fine-tune loss: first epoch %.4f, last two epochs %.4f%n", first, last);
        assertTrue(first > 0.3, "a real loss is reported, not 0: " + first);
        assertTrue(last < first * 0.7, "loss falls: " + first + " -> " + last);

        RunFolder run = r.run();
        assertTrue(run.isComplete());
        for (String f : List.of(RunFolder.CONFIG, RunFolder.LABELS, RunFolder.VOCAB, RunFolder.BASE_MODEL,
                RunFolder.METRICS, RunFolder.EVALUATION, RunFolder.STEPS, RunFolder.EPOCHS, RunFolder.CHART)) {
            assertTrue(Files.isRegularFile(run.file(f)), "run folder has " + f);
        }
        assertFalse(Files.exists(run.file(RunFolder.CHECKPOINT)), "checkpoint removed after a complete run");
        assertEquals(List.of("negative", "positive"), run.labels());
        CpuFeatures.assertDescribesThisCpu(new ObjectMapper().readTree(run.file(RunFolder.METRICS).toFile())
                .get("cpu"));

        assertEquals(null, dev.bertclf.model.SavedGraphs.load(run.file(RunFolder.MODEL))
                .getTrainingConfig(), "the served model carries no training config");
        // tested, and used from the run folder, at the inference length: more of each review than in training
        Featurizer at64 = new Featurizer(run.file(RunFolder.VOCAB), TextNormalization.UNCASED,
                s.features().atInference());
        Evaluator.Report reference = Evaluator.evaluate("at 64", new Classifier(r.model(), at64, run.labels(),
                Precision.FP32), data.testRows(), 1);
        Evaluator.Report at48 = Evaluator.evaluate("at 48", new Classifier(r.model(), new Featurizer(
                run.file(RunFolder.VOCAB), TextNormalization.UNCASED, s.features()), run.labels(), Precision.FP32),
                data.testRows(), 1);
        assertEquals(reference.accuracy(), r.test().accuracy(), 1e-12);
        assertEquals(reference.loss(), r.test().loss(), 1e-5);
        assertTrue(Math.abs(at48.loss() - r.test().loss()) > 1e-4, "the reviews are longer than 48 word pieces: "
                + at48.loss() + " vs " + r.test().loss());
        Classifier loaded = run.classifier(Precision.FP32);
        assertEquals(64, loaded.featurizer().settings().maxLength());
        List<String> texts = data.testRows().stream().map(LabeledText::text).toList();
        float[][] fromDisk = loaded.predict(texts);
        float[][] inMemory = Classifier.probabilities(r.model(), loaded.featurizer().featurize(texts))
                .toFloatMatrix();
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(inMemory[i], fromDisk[i], 1e-6f, "saved model predicts what the trained one did");
            assertEquals(1.0, fromDisk[i][0] + fromDisk[i][1], 1e-5);
        }

        // the Predict and Evaluate commands on the same run folder
        Path predictions = tmp.resolve("predictions.csv");
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), test.toString(),
                predictions.toString()}));
        List<String> lines = Files.readAllLines(predictions);
        assertEquals("line,label,p_negative,p_positive", lines.get(0));
        assertEquals(9, lines.size());
        String[] firstRow = lines.get(1).split(",");
        assertEquals("2", firstRow[0], "source line of the first review");
        assertEquals(fromDisk[0][1], Float.parseFloat(firstRow[3]), 1e-5);
        assertEquals(0, EvaluateCommand.main(new String[]{run.dir().toString(), test.toString()}));
        assertEquals(2, EvaluateCommand.main(new String[]{run.dir().toString(), tmp.resolve("none.csv").toString()}),
                "a missing file is bad input");

        // served over HTTP from the run folder: the same probabilities as the model loaded directly
        try (PredictionServer server = ServeApp.start(TestSettings.with("serve.port=0", "serve.run=" + run.dir()))) {
            HttpClient client = HttpClient.newHttpClient();
            String body = new ObjectMapper().writeValueAsString(java.util.Map.of("texts", texts));
            HttpResponse<String> res = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/predict"))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, res.statusCode(), res.body());
            JsonNode answers = new ObjectMapper().readTree(res.body());
            for (int i = 0; i < texts.size(); i++) {
                JsonNode a = answers.get(i);
                assertEquals(run.id(), a.get("model").asText());
                assertEquals(fromDisk[i][1], a.get("probabilities").get("positive").asDouble(), 1e-5,
                        "text " + i + " (served in a batch at its own length)");
                assertEquals(fromDisk[i][1] > fromDisk[i][0] ? "positive" : "negative", a.get("label").asText());
            }
            HttpResponse<String> model = client.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/model")).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode info = new ObjectMapper().readTree(model.body());
            assertEquals("bert-base-uncased", info.get("base_model").asText());
            assertEquals(false, info.get("cased").asBoolean());
            assertTrue(info.get("base_model_description").asText().contains("uncased"), model.body());
            assertEquals(64, info.get("max_length").asInt(), "the inference length");
            assertEquals("fp32", info.get("precision").asText(), "this machine's inference.precision");
            assertEquals(r.test().accuracy(), info.get("test").get("accuracy").asDouble(), 1e-9);
            CpuFeatures.assertDescribesThisCpu(info.get("cpu"));
        }
    }

    /**
     * The tiny fine-tune's settings, {@code epochs} epochs of 4 steps, with its training products in
     * {@code precision} and its evaluations' in {@code inference}.
     */
    private Settings tinyFineTune(RealBert.TinyImdb data, String name, int epochs, String precision,
            String inference) {
        return TestSettings.with("experiment=" + name, "data.train=" + data.train(), "data.test=" + data.test(),
                "data.validation=8", "data.download.enabled=false", "model.encoder-layers=2",
                "features.max-length=48", "train.epochs=" + epochs, "train.batch-size=8",
                "train.learning-rate=1.5e-4", "train.schedule=constant", "train.warmup=0",
                "train.checkpoint-every=0", "train.runs-dir=" + tmp.resolve("runs-" + name),
                "train.eval-batch-size=8", "train.keep-best=false", "train.precision=" + precision,
                "inference.precision=" + inference);
    }

    private Settings tinyFineTune(RealBert.TinyImdb data, String name, int epochs, String precision) {
        return tinyFineTune(data, name, epochs, precision, "fp32");
    }

    @Test
    void withBf16InferenceARunTrainsInFloat32AndEvaluatesInBf16() throws Exception {
        CpuFeatures.assumeBf16();
        RealBert.TinyImdb data = RealBert.tinyImdb(tmp);
        TrainingApp.Result fp32 = TrainingApp.run(tinyFineTune(data, "fp32", 1, "fp32", "fp32"));
        long before = Bf16Products.computed();
        TrainingApp.Result bf16 = TrainingApp.run(tinyFineTune(data, "bf16-eval", 1, "fp32", "bf16"));

        assertTrue(Bf16Products.computed() > before, "the validation and test evaluations ran in bf16");
        List<TrainingState.Step> steps = bf16.state().steps();
        assertEquals(fp32.state().steps().size(), steps.size());
        for (int i = 0; i < steps.size(); i++) {
            assertEquals(fp32.state().steps().get(i).loss(), steps.get(i).loss(), 0.0, "training stays float32");
        }
        // the same trained weights, tested in bf16 and in float32
        assertEquals(fp32.test().examples(), bf16.test().examples());
        System.out.printf("test in fp32 and bf16: loss %.6f / %.6f, accuracy %.4f / %.4f%n", fp32.test().loss(),
                bf16.test().loss(), fp32.test().accuracy(), bf16.test().accuracy());
        assertTrue(fp32.test().loss() != bf16.test().loss(), "the test evaluation's products were rounded");
        assertEquals(fp32.test().loss(), bf16.test().loss(), 0.02, "bf16 test loss near float32's");
    }

    @Test
    void aBf16FineTuneRunsEveryTrainingProductInBf16AndFollowsFloat32sLosses() throws Exception {
        CpuFeatures.assumeBf16();
        RealBert.TinyImdb data = RealBert.tinyImdb(tmp);
        List<TrainingState.Step> fp32 = TrainingApp.run(tinyFineTune(data, "fp32", 3, "fp32")).state().steps();
        long before = Bf16Products.computed();
        long fellBackBefore = Bf16Products.fellBack();
        TrainingApp.Result bf16 = TrainingApp.run(tinyFineTune(data, "bf16", 3, "bf16"));
        long computed = Bf16Products.computed() - before;

        // every forward product and both products of each gradient, every step, in bf16: none fell back to float32
        List<TrainingState.Step> steps = bf16.state().steps();
        assertEquals(12, steps.size());
        assertEquals(0, Bf16Products.fellBack() - fellBackBefore, "products left to libnd4j's float32 kernel");
        assertTrue(computed > 0 && computed % steps.size() == 0, computed + " bf16 products in 12 equal steps");
        double worst = 0;
        for (int i = 0; i < steps.size(); i++) {
            worst = Math.max(worst, Math.abs(steps.get(i).loss() - fp32.get(i).loss()) / fp32.get(i).loss());
        }
        System.out.printf("bf16 fine-tune: %d products a step, largest relative loss difference from fp32 %.2e%n",
                computed / steps.size(), worst);
        assertTrue(worst > 0, "the products were rounded");
        assertTrue(worst < 0.02, "bf16 follows float32's losses: largest relative difference " + worst);
    }
}
