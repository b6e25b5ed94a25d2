package dev.bertclf.app;

import dev.bertclf.serve.PredictionServer;

import java.util.concurrent.CountDownLatch;

/** {@code Serve [experiment.conf]}: serves a run folder until stopped (SIGTERM/Ctrl-C stop it gracefully). */
public final class ServeCommand {
    private ServeCommand() {
    }

    public static int main(String[] args) {
        return Cli.run("Serve", args, "[experiment.conf]", () -> {
            PredictionServer server = ServeApp.start(Cli.settings(args));
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                server.close();
                stopped.countDown();
            }, "graceful-shutdown"));
            stopped.await();
            return Cli.OK;
        });
    }
}
