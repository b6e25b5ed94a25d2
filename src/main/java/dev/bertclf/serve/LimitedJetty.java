package dev.bertclf.serve;

import dev.bertclf.config.Settings;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.ThreadPool;
import spark.embeddedserver.EmbeddedServers;
import spark.embeddedserver.jetty.EmbeddedJettyFactory;
import spark.embeddedserver.jetty.JettyServerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Spark-Java's Jetty with an idle timeout that holds against slow clients: Spark gives every connection one hour.
 * This factory sets {@code serve.idle-timeout-ms} on every connector Spark installs. (Jetty's own minimum request
 * data rate is not used: it counts the time before the handler reads, so it cuts off small bodies read late;
 * {@code PredictionServer} checks the rate itself.) Jetty's own error pages are JSON ({@link JsonErrorHandler}).
 */
final class LimitedJetty implements JettyServerFactory {
    private static final AtomicLong IDS = new AtomicLong();
    private final Settings.ServeSettings settings;

    private LimitedJetty(Settings.ServeSettings settings) {
        this.settings = settings;
    }

    /** Registers a factory for these settings with Spark; pass the result to {@code embeddedServerIdentifier}. */
    static Object register(Settings.ServeSettings settings) {
        String id = "bertclf-jetty-" + IDS.incrementAndGet();
        EmbeddedServers.add(id, new EmbeddedJettyFactory(new LimitedJetty(settings)));
        return id;
    }

    @Override
    public Server create(int maxThreads, int minThreads, int threadTimeoutMillis) {
        return create(new QueuedThreadPool(maxThreads, minThreads, threadTimeoutMillis));
    }

    @Override
    public Server create(ThreadPool threadPool) {
        Server server = new Server(threadPool) {
            @Override
            public void setConnectors(Connector[] connectors) {
                for (Connector c : connectors) {
                    limit(c);
                }
                super.setConnectors(connectors);
            }
        };
        server.setErrorHandler(new JsonErrorHandler());
        return server;
    }

    private void limit(Connector c) {
        if (c instanceof ServerConnector sc) {
            sc.setIdleTimeout(settings.idleTimeoutMs());
        }
        HttpConnectionFactory http = c.getConnectionFactory(HttpConnectionFactory.class);
        if (http != null) {
            http.getHttpConfiguration().setIdleTimeout(settings.idleTimeoutMs());
        }
    }
}
