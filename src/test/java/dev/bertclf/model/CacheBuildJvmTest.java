package dev.bertclf.model;

import dev.bertclf.RealBert;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheBuildJvmTest {
    @TempDir
    Path tmp;

    /** A descriptor of the zoo's BERT-base with its source replaced by a frozen graph and a vocabulary file. */
    Path frozenGraphDescriptor(Path pb, Path vocab) throws Exception {
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"))
                .replaceAll("(?s)source \\{.*?\\}", "source { type = frozen-graph, path = \"" + pb + "\" }")
                .replace("vocab = \"assets/vocab.txt\"", "vocab = \"" + vocab + "\"");
        return Files.writeString(tmp.resolve("frozen-bert.conf"), text);
    }

    @Test
    void theParameterCountsAreBertsPublishedOnes() {
        assertEquals(109_482_240, CacheBuildJvm.parameters(RealBert.descriptor("bert-base-uncased")));
        assertEquals(108_310_272, CacheBuildJvm.parameters(RealBert.descriptor("bert-base-cased")));
        assertEquals(177_853_440, CacheBuildJvm.parameters(RealBert.descriptor("bert-base-multilingual-cased")));
        assertEquals(1024 + 3 * 109_482_240L * 4 / (1 << 20),
                CacheBuildJvm.heapMegabytes(RealBert.descriptor("bert-base-uncased")));
    }

    @Test
    void theBuildsJvmRunsTheParallelCollectorWithTheHeapSizedForTheModel() {
        ModelDescriptor d = RealBert.descriptor("bert-base-multilingual-cased");
        List<String> cmd = CacheBuildJvm.command(d, RealBert.ZOO.resolve("bert-base-multilingual-cased.conf"),
                tmp.resolve("cache"), MavenArtifacts.Repositories.defaults(), tmp.resolve("error.txt"));
        List<String> gc = cmd.stream().filter(o -> o.matches("-XX:[+-]Use\\w*GC|-XX:NewRatio=.*|-Xmn.*")).toList();
        assertEquals(List.of("-XX:+UseParallelGC", "-XX:NewRatio=4"), gc);
        assertEquals("-Xmx3059m", cmd.stream().filter(o -> o.startsWith("-Xmx")).reduce((a, b) -> b).orElseThrow(),
                "the last -Xmx, the one that counts");
    }

    @Test
    void aBuildThatFailsInItsJvmFailsHereWithTheChildsMessage() throws Exception {
        Path pb = Files.write(tmp.resolve("garbage.pb"), new byte[]{1});
        Path vocab = Files.write(tmp.resolve("vocab.txt"), List.of("[PAD]", "[UNK]"));
        Path descriptor = frozenGraphDescriptor(pb, vocab);
        int before = PretrainedBert.BUILDS.get();
        Path cacheDir = tmp.resolve("cache");
        ModelException e = assertThrows(ModelException.class,
                () -> CacheBuildJvm.ensureBuilt(descriptor, cacheDir, MavenArtifacts.Repositories.defaults()));
        assertTrue(e.getMessage().startsWith("Building the model cache of bert-base-uncased under " + cacheDir
                + " failed: Frozen graph " + pb.toAbsolutePath()), e.getMessage());
        assertEquals(before, PretrainedBert.BUILDS.get(), "nothing was built in this JVM");
        assertFalse(PretrainedBert.isBuilt(ModelDescriptor.load(descriptor), cacheDir));
    }

    @Test
    @Tag("slow")
    void aMissingCacheIsBuiltInAnotherJvmAsThisOneWouldHaveBuiltItAndThenNotAgain() throws Exception {
        Path zooCache = RealBert.cached("bert-base-uncased");
        Path descriptor = frozenGraphDescriptor(zooCache.resolve(PretrainedBert.FROZEN_FILE),
                zooCache.resolve(PretrainedBert.VOCAB_FILE));
        Path cacheDir = tmp.resolve("cache");
        int before = PretrainedBert.BUILDS.get();

        CacheBuildJvm.ensureBuilt(descriptor, cacheDir, MavenArtifacts.Repositories.defaults());

        assertEquals(before, PretrainedBert.BUILDS.get(), "the cache was not built in this JVM");
        ModelDescriptor d = ModelDescriptor.load(descriptor);
        assertTrue(PretrainedBert.isBuilt(d, cacheDir));
        Path built = PretrainedBert.cacheFolder(d, cacheDir).resolve(PretrainedBert.MODEL_FILE);
        assertArrayEquals(Files.readAllBytes(zooCache.resolve(PretrainedBert.MODEL_FILE)), Files.readAllBytes(built),
                "the graph built from the zoo cache's frozen graph equals the zoo cache's own, built in-process");
        FileTime written = Files.getLastModifiedTime(built);
        CacheBuildJvm.ensureBuilt(descriptor, cacheDir, MavenArtifacts.Repositories.defaults());
        assertEquals(written, Files.getLastModifiedTime(built), "a built cache is not built again");
    }
}
