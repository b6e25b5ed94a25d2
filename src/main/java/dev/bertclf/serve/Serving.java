package dev.bertclf.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.CpuReport;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.run.RunFolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Serving one run folder: start HTTP, load the model once, then answer until closed. */
public final class Serving {
    private static final Logger log = LoggerFactory.getLogger(Serving.class);
    /** What {@link #warmUp} predicts: one short text, so the passes are cheap and mostly the code being compiled. */
    static final List<String> WARMUP_TEXTS = List.of("A short text that warms the model up.");

    private Serving() {
    }

    /** Starts the server and loads the model; the server answers 503 on /health until the model is ready. */
    public static PredictionServer start(Settings.ServeSettings ss, Settings.Precision precision, RunFolder run) {
        run.requireServable();
        PredictionServer server = new PredictionServer(ss);
        server.start();
        try {
            long t0 = System.nanoTime();
            Classifier classifier = run.classifier(precision);
            MicroBatcher batcher = warmedUpBatcher(classifier::predict, ss);
            server.ready(new PredictionServer.Model(run.id(), classifier.labels(), batcher, info(run, classifier)));
            log.info("Model {} loaded in {} s", run.id(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /**
     * The micro-batcher that serves requests, warmed up through its own worker thread, so that every forward pass of
     * the server runs on that one thread. Once passes had run on a second thread (the warm-up on the loading thread,
     * then requests on the worker), a short text's pass took much longer with one core often idle:
     * libnd4j's OpenMP runtime (libgomp) seems to stop spinning its worker threads between parallel regions once more
     * threads use it than there are cores (measured, not traced in its source; docs/performance.md, "Forward passes
     * on one thread").
     */
    static MicroBatcher warmedUpBatcher(Predictor predictor, Settings.ServeSettings ss) {
        MicroBatcher batcher = ss.batching()
                ? new MicroBatcher(predictor, ss.maxBatchSize(), ss.maxWaitMs(), ss.queueCapacity())
                : new MicroBatcher(predictor, 1, 0, ss.queueCapacity());
        try {
            warmUp(texts -> batcher.submit(texts).join(), ss.warmupPasses());
        } catch (RuntimeException e) {
            batcher.close();
            throw e;
        }
        return batcher;
    }

    /**
     * Runs {@code passes} predictions of {@link #WARMUP_TEXTS} before the server reports ready: the JVM compiles
     * SameDiff's per-op execution code only after 40-70 passes of BERT-base, and until then every request takes
     * several times as long (docs/performance.md, "Warm-up").
     */
    static void warmUp(Predictor predictor, int passes) {
        if (passes == 0) {
            return;
        }
        log.info("Warming up: {} forward passes of a short text", passes);
        long t0 = System.nanoTime();
        long last = 0;
        for (int i = 0; i < passes; i++) {
            long start = System.nanoTime();
            predictor.predict(WARMUP_TEXTS);
            last = System.nanoTime() - start;
        }
        log.info("Warmed up in {} s (last pass {} ms)", String.format("%.1f", (System.nanoTime() - t0) / 1e9),
                String.format("%.0f", last / 1e6));
    }

    /**
     * What {@code /model} shows: the run, its base model (name, description, casing), labels, feature settings,
     * training and test figures.
     */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> info(RunFolder run, Classifier c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", run.id());
        ModelDescriptor base = ModelDescriptor.load(run.file(RunFolder.BASE_MODEL));
        m.put("base_model", base.name());
        m.put("base_model_description", base.description());
        m.put("cased", !base.normalization().lowerCase());
        m.put("labels", c.labels());
        m.put("max_length", c.featurizer().settings().maxLength());
        m.put("truncation", Settings.nameOf(c.featurizer().settings().truncation()));
        m.put("precision", Settings.nameOf(c.precision()));
        m.put("cpu", CpuReport.current().toMap());
        try {
            Map<String, Object> metrics = new ObjectMapper().readValue(run.file(RunFolder.METRICS).toFile(),
                    Map.class);
            m.put("created", metrics.get("created"));
            m.put("training", Map.of("experiment", String.valueOf(metrics.get("experiment")),
                    "train_examples", metrics.getOrDefault("train_examples", 0),
                    "steps", metrics.getOrDefault("steps", 0)));
            m.put("test", metrics.get("test"));
        } catch (IOException e) {
            log.warn("Cannot read {}: {}", run.file(RunFolder.METRICS), e.getMessage());
        }
        return m;
    }
}
