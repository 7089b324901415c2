package io.chorus.model.checkpoint;

import io.chorus.model.UnsupportedModelException;
import io.chorus.tensor.GgmlType;
import io.chorus.tensor.WeightMatrix;

/** The checks every checkpoint applies before viewing a stored tensor as a weight matrix. */
final class Matrices {
    private Matrices() {}

    /** A matrix stored whole in one tensor of a GGML type ({@link WeightMatrix#of}), checked for presence and shape. */
    static WeightMatrix plain(Checkpoint c, TensorData t, String role, int rows, int cols) {
        if (t == null) throw c.invalid("tensor " + role + " is missing (architecture " + c.config().arch().ggufName + ")");
        if (!t.isMatrix(rows, cols)) {
            throw c.invalid("tensor " + t.name() + " has shape " + t.shape() + ", expected [" + cols + ", " + rows + "]");
        }
        if (t.type() == null) {
            throw new UnsupportedModelException(c.path() + ": tensor " + t.name() + " has type " + t.typeName()
                    + ", which Chorus does not support; supported: " + GgmlType.supportedNames());
        }
        try {
            return WeightMatrix.of(t.name(), t.type(), t.data(), rows, cols);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedModelException(c.path() + ": " + e.getMessage());
        }
    }
}
