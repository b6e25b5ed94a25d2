package dev.bertclf.io;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ChildJvmTest {
    @Test
    void propertyOptionsCarryThePropertiesWithTheGivenPrefixesSorted() {
        System.setProperty("bertclf.zz-child.b", "bf16");
        System.setProperty("bertclf.zz-child.a", "x y");
        System.setProperty("zz-child.other", "1");
        try {
            List<String> options = ChildJvm.propertyOptions("bertclf.zz-child.", "zz-child.");
            assertEquals(List.of("-Dbertclf.zz-child.a=x y", "-Dbertclf.zz-child.b=bf16", "-Dzz-child.other=1"),
                    options);
            assertEquals(List.of("-Dzz-child.other=1"), ChildJvm.propertyOptions("zz-child."));
        } finally {
            System.clearProperty("bertclf.zz-child.b");
            System.clearProperty("bertclf.zz-child.a");
            System.clearProperty("zz-child.other");
        }
    }
}
