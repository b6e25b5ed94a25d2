package dev.bertclf.train;

import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class EvaluatorTest {
    /** Scores one-hot truth against one-hot predictions over {@code labels}. */
    static Evaluation scored(List<String> labels, int[] truth, int[] predicted) {
        Evaluation e = new Evaluation(labels);
        float[][] t = new float[truth.length][labels.size()];
        float[][] p = new float[truth.length][labels.size()];
        for (int i = 0; i < truth.length; i++) {
            t[i][truth[i]] = 1;
            p[i][predicted[i]] = 1;
        }
        e.eval(Nd4j.createFromArray(t), Nd4j.createFromArray(p));
        return e;
    }

    @Test
    void macroF1LeavesOutAClassAbsentFromTruthAndPredictionsAsScikitLearnDoes() {
        // truth 0 0 1 1, predicted 0 1 1 1, class 2 never seen:
        // F1(0) = 2*1/(2+1) = 2/3, F1(1) = 2*2/(2+3) = 4/5; sklearn f1_score(average="macro") = (2/3 + 4/5) / 2
        Evaluation e = scored(List.of("a", "b", "c"), new int[]{0, 0, 1, 1}, new int[]{0, 1, 1, 1});
        assertEquals((2.0 / 3 + 4.0 / 5) / 2, Evaluator.macroF1(e, 3), 1e-12);
    }

    @Test
    void aClassOnlyPredictedCountsWithF1Zero() {
        // truth 0 0 1, predicted 0 2 1: F1(0) = 2/3, F1(1) = 1, F1(2) = 0 (predicted, never true)
        Evaluation e = scored(List.of("a", "b", "c"), new int[]{0, 0, 1}, new int[]{0, 2, 1});
        assertEquals((2.0 / 3 + 1 + 0) / 3, Evaluator.macroF1(e, 3), 1e-12);
    }
}
