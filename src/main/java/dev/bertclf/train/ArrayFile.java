package dev.bertclf.train;

import dev.bertclf.io.AtomicFiles;
import dev.bertclf.model.ModelException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named arrays in one file, streamed from and into the arrays' native memory: no copy of the whole set on the
 * Java heap (a SameDiff flatbuffer of BERT-base with Adam state is a 1.1 GB heap buffer). Written atomically.
 *
 * <p>Format: {@code "bertclf-arrays"}, version, count; then per array its name, data type, shape, byte count and
 * raw little-endian bytes.
 */
final class ArrayFile {
    private static final String MAGIC = "bertclf-arrays";
    private static final int VERSION = 1;

    private ArrayFile() {
    }

    static void write(Path file, Map<String, INDArray> arrays) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("checkpoints are written on little-endian machines only");
        }
        AtomicFiles.write(file, raw -> {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16));
            out.writeUTF(MAGIC);
            out.writeInt(VERSION);
            out.writeInt(arrays.size());
            WritableByteChannel channel = Channels.newChannel(out);
            for (Map.Entry<String, INDArray> e : arrays.entrySet()) {
                INDArray a = e.getValue();
                INDArray plain = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
                writeHeader(out, e.getKey(), plain);
                channel.write(bytes(plain));
                if (plain != a) {
                    plain.close();
                }
            }
            out.flush();
        });
    }

    private static void writeHeader(DataOutputStream out, String name, INDArray a) throws IOException {
        out.writeUTF(name);
        out.writeUTF(a.dataType().name());
        out.writeInt(a.rank());
        for (long d : a.shape()) {
            out.writeLong(d);
        }
        out.writeLong(a.length() * a.dataType().width());
    }

    /** The array's native memory as bytes: exactly its elements. */
    private static ByteBuffer bytes(INDArray a) {
        ByteBuffer b = a.data().asNio();
        long n = a.length() * a.dataType().width();
        if (b.capacity() < n) {
            throw new IllegalStateException("array buffer holds " + b.capacity() + " bytes, expected " + n);
        }
        return b.duplicate().position(0).limit((int) n);
    }

    static Map<String, INDArray> read(Path file) {
        try (InputStream raw = Files.newInputStream(file)) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 16));
            if (!MAGIC.equals(in.readUTF()) || in.readInt() != VERSION) {
                throw new ModelException(file + " is not a checkpoint array file of this version");
            }
            int count = in.readInt();
            Map<String, INDArray> arrays = new LinkedHashMap<>();
            ReadableByteChannel channel = Channels.newChannel(in);
            for (int i = 0; i < count; i++) {
                String name = in.readUTF();
                INDArray a = readArray(in, channel, file, name);
                arrays.put(name, a);
            }
            return arrays;
        } catch (EOFException e) {
            throw new ModelException(file + " is cut short (a checkpoint interrupted while written?)", e);
        } catch (IOException | IllegalArgumentException e) {
            throw new ModelException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static INDArray readArray(DataInputStream in, ReadableByteChannel channel, Path file, String name)
            throws IOException {
        DataType type = DataType.valueOf(in.readUTF());
        long[] shape = new long[in.readInt()];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = in.readLong();
        }
        long bytes = in.readLong();
        INDArray a = Nd4j.createUninitialized(type, shape, 'c');
        if (bytes != a.length() * type.width()) {
            throw new ModelException(file + ": array " + name + " declares " + bytes + " bytes for shape "
                    + java.util.Arrays.toString(shape));
        }
        ByteBuffer target = bytes(a);
        while (target.hasRemaining()) {
            if (channel.read(target) < 0) {
                throw new EOFException();
            }
        }
        return a;
    }
}
