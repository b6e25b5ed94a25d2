package dev.bertclf.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.framework.GraphDef;
import org.tensorflow.framework.NodeDef;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GraphDefsTest {
    @TempDir
    Path tmp;

    private static NodeDef node(String name, String op, String... inputs) {
        return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).build();
    }

    /** x → read (Identity) → add(read, read:0) → out; an Assert with its own check hangs off add by control edge. */
    static GraphDef sample() {
        return GraphDef.newBuilder().addAllNode(List.of(
                node("x", "Placeholder"),
                node("w", "Const"),
                node("read", "Identity", "w"),
                node("read2", "Identity", "read"),
                node("check", "Less", "x", "w"),
                node("assert", "Assert", "check", "x"),
                node("add", "AddV2", "x", "read2:0", "^assert"),
                node("out", "Tanh", "add"),
                node("unused", "Neg", "x"))).build();
    }

    @Test
    void cleanRemovesIdentityAndAssertAndRewiresConsumers() {
        GraphDef cleaned = GraphDefs.clean(sample(), List.of("out"), Set.of("out"));
        Map<String, NodeDef> n = GraphDefs.byName(cleaned);
        assertEquals(Set.of("x", "w", "add", "out"), n.keySet(), "Identity, Assert, its check and dead nodes gone");
        assertEquals(List.of("x", "w"), n.get("add").getInputList(), "chained Identity resolved, control edge dropped");
    }

    @Test
    void reachableFailsFastNamingTheMissingOutput() {
        ModelException e = assertThrows(ModelException.class,
                () -> GraphDefs.reachable(GraphDefs.byName(sample()), List.of("pooled")));
        assertTrue(e.getMessage().contains("'pooled'"));
    }

    @Test
    void namesAreCheckedBeforeImport() {
        ModelDescriptor.Tensors t = new ModelDescriptor.Tensors("x", "mask", "x", "out", "add", "l%d", "k", "b",
                "w", "", "l%d/");
        ModelException e = assertThrows(ModelException.class,
                () -> BertImporter.checkNames(sample(), t, "test.pb"));
        assertTrue(e.getMessage().contains("test.pb has no tensor 'mask' (descriptor tensors.input-mask)"),
                e.getMessage());
    }

    @Test
    void corruptOrMissingGraphFilesAreNamed() throws Exception {
        Path bad = Files.write(tmp.resolve("bad.pb"), new byte[]{1, 2, 3, 4, 5, 6, 7});
        ModelException e = assertThrows(ModelException.class, () -> GraphDefs.read(bad));
        assertTrue(e.getMessage().contains("bad.pb"), e.getMessage());
        assertThrows(ModelException.class, () -> GraphDefs.read(tmp.resolve("none.pb")));
        Path ok = tmp.resolve("ok.pb");
        GraphDefs.write(sample(), ok);
        assertEquals(sample(), GraphDefs.read(ok));
        try (var s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".tmp")), "no temp files left");
        }
    }
}
