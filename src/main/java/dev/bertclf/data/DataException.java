package dev.bertclf.data;

/** A data file is missing or has a bad row; the message names the file and line. */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
