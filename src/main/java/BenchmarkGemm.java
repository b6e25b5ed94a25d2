/** Launcher: {@code mvn exec:java -Dexec.mainClass=BenchmarkGemm} (see docs/benchmarks.md). */
public final class BenchmarkGemm {
    private BenchmarkGemm() {
    }

    public static void main(String[] args) {
        System.exit(dev.bertclf.app.BenchmarkCommand.gemm(args));
    }
}
