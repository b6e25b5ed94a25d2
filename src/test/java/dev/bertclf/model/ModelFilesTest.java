package dev.bertclf.model;

import dev.bertclf.RealBert;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void vocabularyOfAnotherModelIsRefused() throws Exception {
        Path v = Files.write(tmp.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"));
        org.nd4j.autodiff.samediff.SameDiff sd = org.nd4j.autodiff.samediff.SameDiff.create();
        sd.constant("emb", org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 9, 4));
        ModelException e = assertThrows(ModelException.class, () -> Vocab.checkMatches(Vocab.read(v), v, sd, "emb"));
        assertTrue(e.getMessage().contains("vocab.txt has 6 tokens") && e.getMessage().contains("have 9 rows"),
                e.getMessage());
    }

    @Test
    void descriptorWhoseVocabSizeDiffersFromItsVocabularyIsRefusedNamingBoth() throws Exception {
        Path v = Files.write(tmp.resolve("vocab.txt"), List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"));
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"))
                .replace("vocab-size = 30522", "vocab-size = 7");
        ModelDescriptor d = ModelDescriptor.load(Files.writeString(tmp.resolve("seven.conf"), text));
        ModelException e = assertThrows(ModelException.class, () -> Vocab.checkDeclaredSize(Vocab.read(v), v, d));
        assertTrue(e.getMessage().contains("vocab-size = 7") && e.getMessage().contains("vocab.txt has 6 tokens"),
                e.getMessage());
    }

    @Test
    @org.junit.jupiter.api.Tag("slow")
    void savedModelWithoutTheRequestedTagIsRefused() {
        ModelDescriptor d = RealBert.descriptor();
        Path savedModel = PretrainedBert.unpackResource(d, tmp.resolve("savedmodel"),
                MavenArtifacts.Repositories.defaults());
        ModelException e = assertThrows(ModelException.class, () -> GraphFreezer.freeze(savedModel, "train",
                d.tensors()));
        assertTrue(e.getMessage().contains("with tag 'train'") && e.getMessage().contains(savedModel.getFileName()
                .toString()), e.getMessage());
    }

    @Test
    @org.junit.jupiter.api.Tag("slow")
    void aBuiltCacheKeepsNoUnpackedCopyOfTheWeightsFromMaven() {
        ModelDescriptor d = RealBert.descriptor();
        Path folder = RealBert.cached(d.name());
        assertTrue(Files.isRegularFile(folder.resolve(PretrainedBert.VOCAB_FILE)), folder.toString());
        assertTrue(Files.isRegularFile(folder.resolve(PretrainedBert.FROZEN_FILE)), folder.toString());
        Path unpacked = PretrainedBert.unpackedFolder(folder);
        assertTrue(Files.notExists(unpacked), unpacked + " still holds a third copy of the weights");
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
    void attentionHeadsDefaultToBertsHeadWidthAndMustDivideTheHiddenSize() throws Exception {
        String text = Files.readString(RealBert.ZOO.resolve("bert-base-uncased.conf"));
        assertEquals(12, RealBert.descriptor().attentionHeads());
        ModelDescriptor unstated = ModelDescriptor.load(Files.writeString(tmp.resolve("unstated.conf"),
                text.replace("attention-heads = 12", "").replace("hidden-size = 768", "hidden-size = 256")));
        assertEquals(4, unstated.attentionHeads(), "256 / 64, as in Google's BERT-mini");
        Path bad = Files.writeString(tmp.resolve("five-heads.conf"), text.replace("attention-heads = 12",
                "attention-heads = 5"));
        ModelException e = assertThrows(ModelException.class, () -> ModelDescriptor.load(bad));
        assertTrue(e.getMessage().contains("five-heads.conf") && e.getMessage().contains("attention-heads")
                && e.getMessage().contains("768"), e.getMessage());
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
