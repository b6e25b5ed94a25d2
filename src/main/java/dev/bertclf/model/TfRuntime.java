package dev.bertclf.model;

import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.tensorflow.Tensor;
import org.tensorflow.framework.ConfigProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;

/** Small helpers around the TensorFlow 1.15 Java runtime (bytedeco build): native loading and tensor copies. */
public final class TfRuntime {
    private TfRuntime() {
    }

    /** Loads the TensorFlow natives; must run before any {@code org.tensorflow} call. */
    public static void load() {
        Loader.load(org.bytedeco.tensorflow.global.tensorflow.class);
    }

    /** Session options: a fixed number of threads for intra- and inter-op work (0 = TensorFlow's default). */
    public static byte[] sessionConfig(int threads) {
        return ConfigProto.newBuilder().setIntraOpParallelismThreads(threads)
                .setInterOpParallelismThreads(threads == 0 ? 0 : 1).build().toByteArray();
    }

    /** An int32 TF tensor with the contents of an ND4J int array of any rank. */
    public static Tensor<Integer> intTensor(INDArray a) {
        int[] data = a.castTo(DataType.INT).dup('c').data().asInt();
        return Tensor.create(a.shape(), IntBuffer.wrap(data));
    }

    /** Copies a float TF tensor into a new ND4J array of the same shape. */
    public static INDArray toNd4j(Tensor<?> t) {
        FloatBuffer buf = FloatBuffer.allocate(t.numElements());
        t.writeTo(buf);
        return Nd4j.create(buf.array(), t.shape(), 'c');
    }

    /** Raw little-endian bytes of a tensor, as a TensorProto's {@code tensor_content}. */
    public static byte[] bytes(Tensor<?> t) {
        ByteBuffer buf = ByteBuffer.allocate(t.numBytes()).order(ByteOrder.nativeOrder());
        t.writeTo(buf);
        return buf.array();
    }
}
