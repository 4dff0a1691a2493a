package com.facekit.core;

/** MediaPipe SSD anchor parameters (fixed anchor size, aspect ratio 1), as the manifest gives them. */
public final class AnchorSpec {
    public final int inputSize;
    public final int[] strides;
    public final double minScale;
    public final double maxScale;
    public final double offset;
    public final boolean interpolatedScale;

    public AnchorSpec(int inputSize, int[] strides, double minScale, double maxScale, double offset,
                      boolean interpolatedScale) {
        this.inputSize = inputSize;
        this.strides = strides.clone();
        this.minScale = minScale;
        this.maxScale = maxScale;
        this.offset = offset;
        this.interpolatedScale = interpolatedScale;
    }

    /** Anchor centres as [x0, y0, x1, y1, ...] normalised to the input, in MediaPipe's order (w = h = 1). */
    public float[] centres() {
        int total = 0;
        for (int pass = 0; pass < 2; pass++) {
            float[] out = pass == 1 ? new float[2 * total] : null;
            int index = 0;
            int layer = 0;
            while (layer < strides.length) {
                int last = layer;
                int perCell = 0;
                while (last < strides.length && strides[last] == strides[layer]) {
                    perCell += interpolatedScale ? 2 : 1;
                    last++;
                }
                int cells = (inputSize + strides[layer] - 1) / strides[layer];
                for (int y = 0; y < cells; y++) {
                    for (int x = 0; x < cells; x++) {
                        for (int a = 0; a < perCell; a++) {
                            if (out != null) {
                                out[2 * index] = (float) ((x + offset) / cells);
                                out[2 * index + 1] = (float) ((y + offset) / cells);
                            }
                            index++;
                        }
                    }
                }
                layer = last;
            }
            if (out != null) {
                return out;
            }
            total = index;
        }
        throw new AssertionError("unreachable");
    }
}
