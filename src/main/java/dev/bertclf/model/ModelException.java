package dev.bertclf.model;

/** A model file or graph is missing, corrupt or does not hold what its descriptor promises. */
public class ModelException extends RuntimeException {
    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
