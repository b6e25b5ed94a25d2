package dev.bertclf.bench;

import dev.bertclf.train.TrainingListener;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a training step's time goes: a SameDiff listener that times every op, summed by op type, with the bytes of
 * the arrays each op type allocates for its outputs, split into forward and backward ops, plus the time outside ops
 * (framework: scheduling, updater, allocation), in the JVM's garbage collector, and waiting for data. Steps before
 * {@code warmup} are not counted. {@link #ofForwardPasses} profiles inference passes ({@code sd.output}) instead,
 * by op type and output shape.
 */
public final class StepProfile extends TrainingListener {
    /** Totals of one op type over the profiled steps. */
    public record OpType(String type, boolean backward, long calls, double seconds, double gigabytes) {
    }

    private final int warmup;
    private final boolean passes;
    private final Map<String, long[]> totals = new TreeMap<>(); // key → {calls, nanos, bytes}
    private int step;
    private int profiled;
    private long stepStart;
    private long opStart;
    private long gcAtStart;
    private double stepSeconds;
    private double gcSeconds;
    private double dataSeconds;

    public StepProfile(int warmup) {
        this(warmup, false);
    }

    private StepProfile(int warmup, boolean passes) {
        this.warmup = warmup;
        this.passes = passes;
    }

    /**
     * A profile of inference passes: each {@code sd.output} call is a step, and each op type is split by the shape
     * of its first output ({@code matmul [1024, 768]}), as one pass has few ops of many shapes.
     */
    public static StepProfile ofForwardPasses(int warmup) {
        return new StepProfile(warmup, true);
    }

    @Override
    public boolean isActive(Operation operation) {
        return operation == (passes ? Operation.INFERENCE : Operation.TRAINING);
    }

    @Override
    public void operationStart(SameDiff sd, Operation operation) {
        if (passes) {
            iterationStart(sd, null, null, 0);
        }
    }

    @Override
    public void operationEnd(SameDiff sd, Operation operation) {
        if (passes) {
            iterationDone(sd, null, null, null);
        }
    }

    private boolean recording() {
        return step >= warmup;
    }

    @Override
    public void iterationStart(SameDiff sd, At at, MultiDataSet data, long etlMs) {
        stepStart = System.nanoTime();
        gcAtStart = gcMillis();
        if (recording()) {
            dataSeconds += etlMs / 1e3;
        }
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
        opStart = System.nanoTime();
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
                            INDArray[] outputs) {
        if (!recording()) {
            return;
        }
        long nanos = System.nanoTime() - opStart;
        long bytes = 0;
        boolean backward = op.getOp().opName().endsWith("_bp");
        if (outputs != null) {
            for (INDArray o : outputs) {
                if (o != null) {
                    bytes += o.length() * o.dataType().width();
                }
            }
        }
        for (String out : op.getOutputsOfOp()) {
            backward |= out.endsWith("-grad");
        }
        String type = op.getOp().opName();
        if (passes && outputs != null && outputs.length > 0 && outputs[0] != null) {
            type += " " + Arrays.toString(outputs[0].shape());
        }
        long[] t = totals.computeIfAbsent((backward ? "B " : "F ") + type, k -> new long[3]);
        t[0]++;
        t[1] += nanos;
        t[2] += bytes;
    }

    @Override
    public void iterationDone(SameDiff sd, At at, MultiDataSet data, Loss loss) {
        if (recording()) {
            stepSeconds += (System.nanoTime() - stepStart) / 1e9;
            gcSeconds += (gcMillis() - gcAtStart) / 1e3;
            profiled++;
        }
        step++;
    }

    private static long gcMillis() {
        long ms = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ms += Math.max(0, gc.getCollectionTime());
        }
        return ms;
    }

    /** Per op type, per profiled step, largest time first. */
    public List<OpType> opTypes() {
        List<OpType> out = new ArrayList<>();
        int n = Math.max(1, profiled);
        totals.forEach((k, t) -> out.add(new OpType(k.substring(2), k.startsWith("B"), t[0] / n, t[1] / 1e9 / n,
                t[2] / 1e9 / n)));
        out.sort(Comparator.comparingDouble(OpType::seconds).reversed());
        return out;
    }

    /** The profile as Markdown: the step's split, then the top op types by time and by bytes allocated. */
    public String markdown(int top) {
        int n = Math.max(1, profiled);
        List<OpType> ops = opTypes();
        double forward = ops.stream().filter(o -> !o.backward()).mapToDouble(OpType::seconds).sum();
        double backward = ops.stream().filter(OpType::backward).mapToDouble(OpType::seconds).sum();
        double step = stepSeconds / n;
        double gc = gcSeconds / n;
        StringBuilder b = new StringBuilder();
        String unit = passes ? "pass" : "step";
        b.append(String.format(Locale.ROOT, "Mean of %d profiled %s: %.3f s per %s%n%n", profiled,
                passes ? "passes" : "steps", step, unit));
        b.append("| part | s/" + unit + " | share |\n| --- | ---: | ---: |\n");
        row(b, "forward ops", forward, step);
        if (!passes) {
            row(b, "backward ops (`*_bp`, gradient accumulation)", backward, step);
        }
        row(b, "JVM garbage collection" + (passes ? "" : " (System.gc() after the step not included)"), gc, step);
        row(b, passes ? "outside ops: scheduling, allocation, listeners"
                : "outside ops: scheduling, updater (Adam), allocation, listeners", step - forward - backward - gc,
                step);
        if (!passes) {
            row(b, "data (featurizing the next batch, before the step)", dataSeconds / n, step);
        }
        b.append(String.format(Locale.ROOT, "%n%d op executions per %s, %.2f GB of op outputs allocated per %s"
                        + "%n%n", ops.stream().mapToLong(OpType::calls).sum(), unit,
                ops.stream().mapToDouble(OpType::gigabytes).sum(), unit));
        String header = String.format("| op | pass | calls/%1$s | s/%1$s | share of %1$s | GB/%1$s |%n"
                + "| --- | --- | ---: | ---: | ---: | ---: |%n", unit);
        b.append("Top op types by time (F forward, B backward):\n\n").append(header);
        ops.stream().limit(top).forEach(o -> opRow(b, o, step));
        b.append("\nTop op types by bytes allocated for outputs:\n\n").append(header);
        ops.stream().sorted(Comparator.comparingDouble(OpType::gigabytes).reversed()).limit(top)
                .forEach(o -> opRow(b, o, step));
        return b.toString();
    }

    private static void row(StringBuilder b, String part, double seconds, double step) {
        b.append(String.format(Locale.ROOT, "| %s | %.3f | %.0f%% |%n", part, seconds, 100 * seconds / step));
    }

    private static void opRow(StringBuilder b, OpType o, double step) {
        b.append(String.format(Locale.ROOT, "| `%s` | %s | %d | %.3f | %.1f%% | %.2f |%n", o.type(),
                o.backward() ? "B" : "F", o.calls(), o.seconds(), 100 * o.seconds() / step, o.gigabytes()));
    }
}
