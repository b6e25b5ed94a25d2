package dev.bertclf.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Seeded sampling and train/validation splitting. */
public final class Splits {
    private Splits() {
    }

    /** A train/validation split. */
    public record Split(List<LabeledText> train, List<LabeledText> validation) {
    }

    /** At most {@code limit} rows, sampled with {@code seed} (0 = all rows, in file order). */
    public static List<LabeledText> limit(List<LabeledText> rows, int limit, long seed) {
        if (limit <= 0 || limit >= rows.size()) {
            return rows;
        }
        return shuffled(rows, seed).subList(0, limit);
    }

    /**
     * Carves a validation set from {@code rows}.
     *
     * @param validation a count (>= 1) or a fraction (< 1) of the rows
     */
    public static Split split(List<LabeledText> rows, double validation, long seed) {
        int n = validation >= 1 ? (int) validation : (int) Math.round(rows.size() * validation);
        if (n >= rows.size()) {
            throw new DataException("validation set (" + n + ") would leave no training rows out of " + rows.size());
        }
        List<LabeledText> s = shuffled(rows, seed ^ 0x5EEDL);
        return new Split(List.copyOf(s.subList(n, s.size())), List.copyOf(s.subList(0, n)));
    }

    /** A copy of {@code rows} in a seeded random order. */
    public static List<LabeledText> shuffled(List<LabeledText> rows, long seed) {
        List<LabeledText> s = new ArrayList<>(rows);
        Collections.shuffle(s, new Random(seed));
        return s;
    }
}
