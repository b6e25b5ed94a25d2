package dev.bertclf.graph;

/** Names in a TensorFlow GraphDef. */
public final class TfNodeNames {
    private TfNodeNames() {
    }

    /** The node a GraphDef input string refers to ({@code ^x}, {@code x:1} → {@code x}). */
    public static String nodeOf(String input) {
        String s = input.startsWith("^") ? input.substring(1) : input;
        int colon = s.lastIndexOf(':');
        return colon > 0 && s.substring(colon + 1).chars().allMatch(Character::isDigit) ? s.substring(0, colon) : s;
    }
}
