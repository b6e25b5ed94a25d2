package dev.bertclf.app;

import dev.bertclf.config.Settings;
import dev.bertclf.run.RunFolder;
import dev.bertclf.serve.PredictionServer;
import dev.bertclf.serve.Serving;

/**
 * Serving: the run folder to serve ({@code serve.run}, or the newest complete run, looked up again at each reload),
 * then the server.
 */
public final class ServeApp {
    private ServeApp() {
    }

    /** Starts the server and loads the model; the server answers 503 on /health until the model is ready. */
    public static PredictionServer start(Settings s) {
        return Serving.start(s.serve(), s.inference().precision(), s.explain(),
                () -> RunFolder.toServe(s.serve().run(), s.train().runsDir()));
    }
}
