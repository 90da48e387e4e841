package io.aneforge.graph;

/** A model or variant the graph builders cannot build (unsupported activation, precision, sequence length). */
public class GraphException extends RuntimeException {
    public GraphException(String message) {
        super(message);
    }
}
