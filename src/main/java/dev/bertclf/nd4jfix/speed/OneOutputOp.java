package dev.bertclf.nd4jfix.speed;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.DynamicCustomOp;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An op class of this package's own, under an op name no libnd4j op has: one output, of input 0's data type, and no
 * properties beyond its arguments. Saved graphs name such ops with op number 0; {@link #register} lets
 * {@code SameDiff.load} find the class again.
 */
abstract class OneOutputOp extends DynamicCustomOp {
    /** For ND4J's deserialisation. */
    OneOutputOp() {
    }

    OneOutputOp(SameDiff sd, SDVariable... inputs) {
        super(sd, inputs);
    }

    @Override
    public int getNumOutputs() {
        return 1;
    }

    @Override
    public List<DataType> calculateOutputDataTypes(List<DataType> inputTypes) {
        return List.of(inputTypes.get(0));
    }

    @Override
    public Map<String, Object> propertiesForFunction() {
        return Map.of();
    }

    @Override
    public void setPropertiesForFunction(Map<String, Object> properties) {
    }

    /** Lets {@code SameDiff.load} recreate {@code type} for ops saved under {@code opName}. Idempotent. */
    @SuppressWarnings("unchecked")
    static synchronized void register(String opName, Class<? extends OneOutputOp> type) {
        try {
            Field f = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClasses");
            f.setAccessible(true);
            Map<String, Class<?>> byName = ((Map<Long, Map<String, Class<?>>>) f.get(
                    DifferentialFunctionClassHolder.getInstance())).computeIfAbsent(0L, k -> new HashMap<>());
            byName.putIfAbsent(opName, type);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "ND4J's op registry has no customOpHashToClasses: unsupported ND4J version", e);
        }
    }
}
