package dev.bertclf.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.config.Settings;
import dev.bertclf.model.Classifier;
import dev.bertclf.model.Explainer;
import dev.bertclf.model.CpuReport;
import dev.bertclf.model.ModelDescriptor;
import dev.bertclf.run.RunFolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Serving a run folder: start HTTP, bring the model in through the pass thread, then answer until closed, swapping in
 * the run to serve on {@code POST /admin/reload} and, with {@code serve.run = latest}, as newer runs complete.
 */
public final class Serving {
    private static final Logger log = LoggerFactory.getLogger(Serving.class);
    /** What warm-up predicts: one short text, so the passes are cheap and mostly the code being compiled. */
    static final List<String> WARMUP_TEXTS = List.of("A short text that warms the model up.");

    private Serving() {
    }

    /**
     * Starts the server and loads the run {@code chooser} names (a fixed folder, or the newest complete run); the
     * server answers 503 on /health until the model is ready.
     */
    public static PredictionServer start(Settings.ServeSettings ss, Settings.Precision precision,
                                         Settings.ExplainSettings explain, Supplier<RunFolder> chooser) {
        chooser.get().requireServable();
        return start(ss, () -> {
            RunFolder run = chooser.get();
            return new ModelReloader.Candidate(run.id(), () -> load(run, precision, explain));
        });
    }

    /**
     * Starts the server, loads the first model {@code chooser} names on the pass thread and warms it up there
     * ({@code serve.warmup-passes}): the JVM compiles SameDiff's per-op execution code only after 40-70 passes of
     * BERT-base, and until then every request takes several times as long (docs/performance.md, "Warm-up"). Every
     * forward pass of the server runs on that one thread: once passes had run on a second thread, a short text's
     * pass took much longer with one core often idle, as libnd4j's OpenMP runtime (libgomp) seems to stop spinning
     * its worker threads between parallel regions once more threads use it than there are cores (measured, not
     * traced in its source; docs/performance.md, "Forward passes on one thread").
     */
    public static PredictionServer start(Settings.ServeSettings ss, Supplier<ModelReloader.Candidate> chooser) {
        PredictionServer server = new PredictionServer(ss);
        server.start();
        MicroBatcher batcher = new MicroBatcher(ss.batching() ? ss.maxBatchSize() : 1,
                ss.batching() ? ss.maxWaitMs() : 0, ss.queueCapacity(), ss.warmupPasses(),
                ss.reloadWarmupPasses(), server.metrics()::passed);
        ModelReloader reloader = new ModelReloader(batcher, chooser, server.metrics());
        try {
            long t0 = System.nanoTime();
            MicroBatcher.Swapped first = reloader.reload().join();
            log.info("Model {} ready in {} s", first.current(), String.format("%.1f", (System.nanoTime() - t0) / 1e9));
        } catch (CompletionException e) {
            reloader.close();
            batcher.close();
            server.close();
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        server.ready(batcher, reloader);
        if (ss.watchRuns()) {
            reloader.watch(ss.watchIntervalMs());
            log.info("Watching for newer runs every {} ms", ss.watchIntervalMs());
        }
        return server;
    }

    /**
     * A run's classifier as a model to serve; freed (graph included) once swapped out. Its explainer, a second copy
     * of the graph, is loaded by the first explanation (on the pass thread) and freed with it.
     */
    static ServedModel load(RunFolder run, Settings.Precision precision, Settings.ExplainSettings explain) {
        Classifier classifier = run.classifier(precision);
        Explainer[] explainer = new Explainer[1];
        Supplier<Explaining> explaining = () -> {
            if (explainer[0] == null) {
                explainer[0] = run.explainer(precision, explain);
            }
            return (text, label, unit) -> {
                Explainer.Job job = explainer[0].start(text, label, unit);
                return new Explaining.Steps() {
                    @Override
                    public boolean step() {
                        return job.step();
                    }

                    @Override
                    public Explainer.Explained result() {
                        return job.result();
                    }
                };
            };
        };
        Predictor predictor = new Predictor() {
            @Override
            public float[][] predict(List<String> texts) {
                return classifier.predict(texts);
            }

            @Override
            public Pass pass(List<String> texts) {
                Classifier.Output out = classifier.classify(texts);
                return new Pass(out.probabilities(), out.wordPieces());
            }

            @Override
            public int windowLength() {
                return classifier.featurizer().settings().windows().length();
            }

            @Override
            public int windows(String text) {
                return classifier.featurizer().windowCount(text);
            }

            @Override
            public Reading read(List<String> texts, int passRows) {
                Classifier.Reading r = classifier.read(texts, passRows);
                return new Reading() {
                    @Override
                    public boolean step() {
                        return r.step();
                    }

                    @Override
                    public Pass result() {
                        Classifier.Output out = r.result();
                        return new Pass(out.probabilities(), out.wordPieces());
                    }
                };
            }
        };
        return new ServedModel(run.id(), classifier.task(), predictor, info(run, classifier), () -> {
            classifier.release();
            if (explainer[0] != null) {
                explainer[0].close();
            }
        }, explaining);
    }

    /**
     * What {@code /model} shows: the run, its base model (name, description, casing), task, labels (and, for
     * multi-label, their thresholds), feature settings,
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
        m.putAll(c.task().toMap());
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
