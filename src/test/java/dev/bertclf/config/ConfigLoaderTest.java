package dev.bertclf.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    private static Properties props(String... kv) {
        Properties p = new Properties();
        for (int i = 0; i < kv.length; i += 2) {
            p.setProperty(kv[i], kv[i + 1]);
        }
        return p;
    }

    @Test
    void referenceDefaultsAreComplete() {
        Settings s = ConfigLoader.load(null, new Properties());
        assertEquals("default", s.experiment());
        assertEquals(128, s.features().maxLength());
        assertEquals("127.0.0.1", s.serve().host());
        assertEquals(4445, s.serve().port());
        assertNull(s.train().resume());
        assertTrue(s.render().contains("max-length"));
    }

    @Test
    void renderedConfigLoadsBackToTheSameSettings() throws Exception {
        Settings s = ConfigLoader.load(null, props("bertclf.train.epochs", "7", "bertclf.experiment", "x"));
        Path saved = Files.writeString(tmp.resolve("config.conf"), s.render());
        Settings back = ConfigLoader.load(saved, new Properties());
        assertEquals(s.config(), back.config());
        assertEquals(7, back.train().epochs());
    }

    @Test
    void experimentOverridesReferenceAndSystemPropertiesOverrideBoth() throws Exception {
        Path conf = Files.writeString(tmp.resolve("exp.conf"),
                "bertclf { experiment = exp, train { epochs = 3, batch-size = 8 } }");
        Settings s = ConfigLoader.load(conf, props("bertclf.train.epochs", "5"));
        assertEquals("exp", s.experiment());
        assertEquals(5, s.train().epochs(), "-D wins");
        assertEquals(8, s.train().batchSize(), "experiment file wins over reference");
        assertEquals(0.1, s.model().dropout(), "reference default");
    }

    @Test
    void everyProblemIsListedInOneError() throws Exception {
        Path conf = Files.writeString(tmp.resolve("bad.conf"), """
                bertclf {
                  train { epochs = 0, optimizer = sgd, learning-rate = fast }
                  features { truncation = middle }
                  modle { base = x }
                }
                """);
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(conf, props("bertclf.serve.prot", "1")));
        String m = e.getMessage();
        assertTrue(m.contains("bertclf.modle.base"), m);
        assertTrue(m.contains("bertclf.serve.prot"), m);
        assertTrue(m.contains("bertclf.train.epochs = 0 is out of range"), m);
        assertTrue(m.contains("bertclf.train.optimizer = \"sgd\""), m);
        assertTrue(m.contains("bertclf.train.learning-rate must be a number"), m);
        assertTrue(m.contains("bertclf.features.truncation = \"middle\""), m);
        assertEquals(6, e.problems().size(), m);
    }

    @Test
    void missingDataFilesAreReportedWhenDownloadIsOff() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.data.download.enabled", "false", "bertclf.data.train", tmp + "/none.csv")));
        assertTrue(e.getMessage().contains("bertclf.data.train: file not found"), e.getMessage());
    }

    @Test
    void inconsistentLayerSettingsAreRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(null,
                props("bertclf.model.encoder-layers", "4", "bertclf.model.frozen-layers", "6")));
        assertTrue(e.getMessage().contains("frozen-layers (6) must not exceed"), e.getMessage());
    }

    @Test
    void missingExperimentFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.load(tmp.resolve("nope.conf"), new Properties()));
        assertTrue(e.getMessage().contains("nope.conf"));
    }

    @Test
    void shippedExperimentsAreValid() {
        for (String f : new String[]{"conf/default.conf", "conf/imdb-full.conf"}) {
            Settings s = ConfigLoader.load(Path.of(f), new Properties());
            assertTrue(s.experiment().length() > 0, f);
        }
    }
}
