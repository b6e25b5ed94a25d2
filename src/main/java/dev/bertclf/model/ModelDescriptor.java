package dev.bertclf.model;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import dev.bertclf.data.TextNormalization;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a pretrained model is and where its weights come from: one HOCON file under {@code model-zoo/}.
 *
 * @param name          short name, e.g. {@code bert-base-uncased}
 * @param description   one line for people: what the model is, its languages
 * @param source        where the graph comes from
 * @param vocab         vocabulary file: relative to the SavedModel folder for SavedModel sources, else a path
 * @param vocabSize     tokens in the vocabulary, which must equal the word-embedding rows (0 = not declared)
 * @param normalization casing, accent handling and CJK splitting of the model's tokenizer
 * @param maxPositions  the longest sequence the position embeddings cover
 * @param hiddenSize    width of the pooled output
 * @param layers        number of encoder layers in the graph
 * @param attentionHeads attention heads per layer ({@code hidden-size / 64} where not declared, as in every
 *                      Google BERT)
 * @param tensors       tensor names in the source graph
 * @param text          the descriptor as written, kept with every run for provenance
 */
public record ModelDescriptor(String name, String description, Source source, String vocab, int vocabSize,
                              TextNormalization normalization, int maxPositions, int hiddenSize, int layers,
                              int attentionHeads, Tensors tensors, String text) {
    /** The width of one attention head in Google's BERT models, all sizes. */
    static final int BERT_HEAD_SIZE = 64;


    /** Kind of source: a SavedModel zip on the classpath (Maven artifact), a SavedModel folder, or a frozen .pb. */
    public enum SourceType { MAVEN_SAVED_MODEL, SAVED_MODEL, FROZEN_GRAPH }

    /**
     * @param type     kind of source
     * @param artifact Maven coordinates (documentation and error messages) for {@code MAVEN_SAVED_MODEL}
     * @param resource classpath resource of the SavedModel zip for {@code MAVEN_SAVED_MODEL}
     * @param path     folder ({@code SAVED_MODEL}) or file ({@code FROZEN_GRAPH})
     * @param tag      SavedModel tag to load
     */
    public record Source(SourceType type, String artifact, String resource, String path, String tag) {
    }

    /**
     * Names of tensors in the source graph (without {@code :0}).
     *
     * @param layerOutput     per-layer output, a format with one {@code %d}; used to truncate the encoder
     * @param layerVariables  prefix of one layer's variables, a format with one {@code %d}; used to freeze layers
     * @param variablePrefix  prefix of every pretrained weight
     */
    public record Tensors(String inputIds, String inputMask, String segmentIds, String pooled, String sequence,
                          String layerOutput, String poolerKernel, String poolerBias, String wordEmbeddings,
                          String variablePrefix, String layerVariables) {
    }

    /** Reads a descriptor file, naming the file and key on any problem. */
    public static ModelDescriptor load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ModelException("Model descriptor not found: " + file.toAbsolutePath());
        }
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false))
                    .resolve();
            return fromConfig(c);
        } catch (ConfigException e) {
            throw new ModelException("Bad model descriptor " + file.toAbsolutePath() + ": " + e.getMessage(), e);
        }
    }

    private static ModelDescriptor fromConfig(Config c) {
        Config s = c.getConfig("source");
        SourceType type = SourceType.valueOf(s.getString("type").toUpperCase().replace('-', '_'));
        Source source = new Source(type, opt(s, "artifact"), opt(s, "resource"), opt(s, "path"),
                s.hasPath("tag") ? s.getString("tag") : "serve");
        if (type == SourceType.MAVEN_SAVED_MODEL && source.resource() == null) {
            throw new ConfigException.Missing("source.resource");
        }
        if (type != SourceType.MAVEN_SAVED_MODEL && source.path() == null) {
            throw new ConfigException.Missing("source.path");
        }
        Config t = c.getConfig("tensors");
        Tensors tensors = new Tensors(t.getString("input-ids"), t.getString("input-mask"),
                t.getString("segment-ids"), t.getString("pooled"), t.getString("sequence"),
                t.getString("layer-output"), t.getString("pooler-kernel"), t.getString("pooler-bias"),
                t.getString("word-embeddings"), t.getString("variable-prefix"), t.getString("layer-variables"));
        String text = c.root().render(ConfigRenderOptions.concise().setFormatted(true).setJson(false));
        boolean lowerCase = c.getBoolean("lower-case");
        var normalization = new TextNormalization(lowerCase,
                c.hasPath("strip-accents") ? c.getBoolean("strip-accents") : lowerCase,
                !c.hasPath("split-cjk") || c.getBoolean("split-cjk"));
        int hidden = c.getInt("hidden-size");
        int heads = c.hasPath("attention-heads") ? c.getInt("attention-heads") : hidden / BERT_HEAD_SIZE;
        if (heads < 1 || hidden % heads != 0) {
            throw new ConfigException.BadValue("attention-heads",
                    "must divide hidden-size (" + hidden + ") into heads of equal width, got " + heads);
        }
        return new ModelDescriptor(c.getString("name"), c.hasPath("description") ? c.getString("description") : "",
                source, c.getString("vocab"), c.hasPath("vocab-size") ? c.getInt("vocab-size") : 0, normalization,
                c.getInt("max-positions"), hidden, c.getInt("layers"), heads, tensors, text);
    }

    private static String opt(Config c, String key) {
        return c.hasPath(key) ? c.getString(key) : null;
    }
}
