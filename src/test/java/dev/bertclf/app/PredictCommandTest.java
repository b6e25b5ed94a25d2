package dev.bertclf.app;

import dev.bertclf.RealBert;
import dev.bertclf.CpuFeatures;
import dev.bertclf.nd4jfix.speed.Bf16Products;
import dev.bertclf.run.RunFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Predict} and {@code Evaluate} run the classifier in the {@code inference.precision} of their own
 * configuration ({@code -Dbertclf.inference.precision}), not the run folder's.
 */
@Tag("slow")
class PredictCommandTest {
    private static final String PRECISION = "bertclf.inference.precision";

    @TempDir
    Path tmp;

    @Test
    void withBf16PrecisionPredictAndEvaluateRunTheirPassesInBf16() throws Exception {
        CpuFeatures.assumeBf16();
        RunFolder run = RealBert.tinyRun();
        String csv = RealBert.IMDB_TEST.toString();
        Path fp32 = tmp.resolve("fp32.csv");
        Path bf16 = tmp.resolve("bf16.csv");
        long before = Bf16Products.computed();
        assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), csv, fp32.toString()}));
        assertEquals(before, Bf16Products.computed(), "the default, fp32: no bf16 products");

        System.setProperty(PRECISION, "bf16");
        long afterPredict;
        try {
            assertEquals(0, PredictCommand.main(new String[]{run.dir().toString(), csv, bf16.toString()}));
            afterPredict = Bf16Products.computed();
            assertEquals(0, EvaluateCommand.main(new String[]{run.dir().toString(), csv}));
        } finally {
            System.clearProperty(PRECISION);
        }
        assertTrue(afterPredict > before, "Predict's products ran in bf16");
        assertTrue(Bf16Products.computed() > afterPredict, "Evaluate's products ran in bf16");

        List<String> a = Files.readAllLines(fp32);
        List<String> b = Files.readAllLines(bf16);
        assertEquals(a.size(), b.size());
        assertEquals(a.get(0), b.get(0));
        double largest = 0;
        for (int i = 1; i < a.size(); i++) {
            String[] x = a.get(i).split(",");
            String[] y = b.get(i).split(",");
            assertEquals(x[0], y[0], "source line");
            double p32 = Double.parseDouble(x[3]);
            largest = Math.max(largest, Math.abs(Double.parseDouble(y[3]) - p32));
            if (Math.abs(p32 - 0.5) > 0.1) {
                assertEquals(x[1], y[1], "label of line " + x[0]);
            }
        }
        assertTrue(largest > 0 && largest < 0.05, "bf16 probabilities within rounding of fp32's: " + largest);
    }
}
