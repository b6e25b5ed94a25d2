package dev.bertclf.nd4jfix.speed;

import dev.bertclf.app.Cli;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;

/** For {@link ResidentMemoryCheckOffTest}: a command run as the launchers run theirs, printing JavaCPP's limit. */
public final class ResidentMemoryCheckOffProbe {
    private ResidentMemoryCheckOffProbe() {
    }

    public static void main(String[] args) {
        System.exit(Cli.run("probe", () -> {
            Nd4j.create(1).close();
            System.out.println("maxPhysicalBytes " + Pointer.maxPhysicalBytes());
            return Cli.OK;
        }));
    }
}
