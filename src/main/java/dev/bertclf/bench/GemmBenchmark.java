package dev.bertclf.bench;

import dev.bertclf.nd4jfix.Engine;
import dev.bertclf.config.CpuInfo;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Whether bf16 matmuls pay on this CPU: BERT-base's largest product, the FFN's {@code [2048, 768]·[768, 3072]} of a
 * 16×128 batch, through ND4J's {@code matmul} in fp32, with bf16 arrays (libnd4j's own bf16 kernel), and with fp32
 * arrays under bf16 products ({@code train.precision = bf16}: bf16 copies of the inputs, oneDNN's bf16 product,
 * an fp32 output), A B C A B C, as medians and GFLOP/s, with the bf16 results' errors. Prints the CPU's bf16 and AMX
 * flags first; on a CPU without bf16 products (or under an ISA cap) it times fp32 only and says why.
 * {@code DNNL_VERBOSE=1} in the environment makes oneDNN print its version, the ISA it found, and the implementation
 * of each product.
 */
public final class GemmBenchmark {
    static final int M = 2048;
    static final int K = 768;
    static final int N = 3072;
    static final int WARMUP = 2;
    static final int TIMED = 10;
    static final int REPETITIONS = 2;
    /** The flags that decide bf16 speed: AVX-512 itself, its bf16 dot products, AMX's tiles. */
    static final Set<String> FLAGS = Set.of("avx512f", "avx512_bf16", "amx_tile", "amx_bf16");

    private GemmBenchmark() {
    }

    public static void run() {
        System.out.println("Machine: " + Stats.machineAndCpu());
        String flags = CpuInfo.flags().stream().filter(FLAGS::contains).sorted()
                .collect(Collectors.joining(" "));
        System.out.println("CPU flags among " + FLAGS.stream().sorted().toList() + ": "
                + (flags.isEmpty() ? "none" : flags));
        INDArray x = Nd4j.rand(DataType.FLOAT, M, K);
        INDArray w = Nd4j.rand(DataType.FLOAT, K, N);
        INDArray out = Nd4j.create(DataType.FLOAT, M, N);
        double gflop = 2.0 * M * K * N / 1e9;
        CpuInfo.Cpu cpu = CpuInfo.Cpu.thisOne();
        if (!cpu.hasBf16()) {
            // libnd4j's oneDNN has no bf16 path without AVX512-BF16 or AMX: its bf16 matmul fails to create a primitive
            System.out.println("bf16 products skipped: this CPU (" + cpu.described() + ") lacks them, as "
                    + cpu.whyNoBf16());
            for (int rep = 1; rep <= REPETITIONS; rep++) {
                double fp32 = medianMs(() -> multiply(x, w, out));
                System.out.printf("rep %d  [%d, %d]·[%d, %d]  fp32 %.1f ms = %.0f GFLOP/s%n", rep, M, K, K, N, fp32,
                        gflop / fp32 * 1e3);
            }
            return;
        }
        compareBf16(x, w, out, gflop);
    }

    /** fp32 against libnd4j's bf16 arrays and against {@code train.precision = bf16}, A B C A B C, with errors. */
    private static void compareBf16(INDArray x, INDArray w, INDArray out, double gflop) {
        INDArray xb = x.castTo(DataType.BFLOAT16);
        INDArray wb = w.castTo(DataType.BFLOAT16);
        INDArray outb = Nd4j.create(DataType.BFLOAT16, M, N);
        INDArray outMixed = Nd4j.create(DataType.FLOAT, M, N);
        long mixedBefore = Engine.bf16Products();
        for (int rep = 1; rep <= REPETITIONS; rep++) {
            double fp32 = medianMs(() -> multiply(x, w, out));
            double bf16 = medianMs(() -> multiply(xb, wb, outb));
            double mixed = medianMs(() -> Engine.inBf16(() -> multiply(x, w, outMixed)));
            System.out.printf("rep %d  [%d, %d]·[%d, %d]  fp32 %.1f ms = %.0f GFLOP/s  |  bf16 arrays %.1f ms = %.0f"
                    + " GFLOP/s  |  train.precision = bf16 %.1f ms = %.0f GFLOP/s%n", rep, M, K, K, N, fp32,
                    gflop / fp32 * 1e3, bf16, gflop / bf16 * 1e3, mixed, gflop / mixed * 1e3);
        }
        System.out.printf("train.precision = bf16: %d of its %d products ran on oneDNN's bf16 matmul%n",
                Engine.bf16Products() - mixedBefore, (long) REPETITIONS * (WARMUP + TIMED));
        // the bf16 products against the fp32 product of the same (bf16-rounded) inputs
        multiply(xb.castTo(DataType.FLOAT), wb.castTo(DataType.FLOAT), out);
        double scale = out.amaxNumber().doubleValue();
        System.out.printf("largest error of the largest output, against fp32 on the rounded inputs: bf16 arrays %.1e,"
                + " train.precision = bf16 %.1e (medians of %d products after %d warm-up; bf16 pays only if its time"
                + " is well under fp32's)%n", outb.castTo(DataType.FLOAT).subi(out).amaxNumber().doubleValue() / scale,
                outMixed.sub(out).amaxNumber().doubleValue() / scale, TIMED, WARMUP);
    }

    private static double medianMs(Runnable product) {
        List<Double> ms = new ArrayList<>();
        for (int i = 0; i < WARMUP + TIMED; i++) {
            long t0 = System.nanoTime();
            product.run();
            if (i >= WARMUP) {
                ms.add((System.nanoTime() - t0) / 1e6);
            }
        }
        return Stats.median(ms);
    }

    private static void multiply(INDArray a, INDArray b, INDArray out) {
        Nd4j.exec(new Mmul(a, b, out, 1.0, 0.0, MMulTranspose.allFalse()));
    }
}
