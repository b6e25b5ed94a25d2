package dev.bertclf.model;

import dev.bertclf.RealBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad model inputs get errors that name the file and the problem. */
class ModelFilesTest {
    @TempDir
    Path tmp;

    @Test
    void vocabularyWithoutSpecialTokensIsRefused() throws Exception {
        Path v = Files.write(tmp.resolve("vocab.txt"), List.of("hello", "world"));
        ModelException e = assertThrows(ModelException.class, () -> Vocab.read(v));
        assertTrue(e.getMessage().contains("vocab.txt") && e.getMessage().contains("[PAD]"), e.getMessage());
        assertThrows(ModelException.class, () -> Vocab.read(tmp.resolve("missing.txt")));
    }

    @Test
    void savedModelFolderWithoutGraphIsRefused() {
        ModelException e = assertThrows(ModelException.class,
                () -> GraphFreezer.freeze(tmp, "serve", RealBert.descriptor().tensors()));
        assertTrue(e.getMessage().contains("no saved_model.pb"), e.getMessage());
    }

    @Test
    void descriptorErrorsNameTheFileAndKey() throws Exception {
        Path d = Files.writeString(tmp.resolve("my-bert.conf"), "name = x\nsource { type = frozen-graph }\n");
        ModelException e = assertThrows(ModelException.class, () -> ModelDescriptor.load(d));
        assertTrue(e.getMessage().contains("my-bert.conf") && e.getMessage().contains("source.path"), e.getMessage());
    }

    @Test
    void frozenGraphSourceMissingFileIsNamed() throws Exception {
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"))
                .replaceAll("(?s)source \\{.*?\\}", "source { type = frozen-graph, path = \""
                        + tmp.resolve("absent.pb") + "\" }");
        Path d = Files.writeString(tmp.resolve("mine.conf"), text);
        ModelException e = assertThrows(ModelException.class,
                () -> PretrainedBert.load(ModelDescriptor.load(d), tmp.resolve("cache")));
        assertTrue(e.getMessage().contains("absent.pb"), e.getMessage());
    }

    @Test
    void cacheKeyChangesWithTheSource() throws Exception {
        ModelDescriptor a = RealBert.descriptor();
        Path pb = Files.write(tmp.resolve("g.pb"), new byte[]{1});
        Path vocab = Files.write(tmp.resolve("v.txt"), List.of("[PAD]"));
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"))
                .replaceAll("(?s)source \\{.*?\\}", "source { type = frozen-graph, path = \"" + pb + "\" }")
                .replace("vocab = \"assets/vocab.txt\"", "vocab = \"" + vocab + "\"");
        ModelDescriptor b = ModelDescriptor.load(Files.writeString(tmp.resolve("b.conf"), text));
        String before = PretrainedBert.key(b);
        assertNotEquals(PretrainedBert.key(a), before);
        Files.write(pb, new byte[]{1, 2});
        assertNotEquals(before, PretrainedBert.key(b), "a changed graph file gets a new cache");
    }
}
