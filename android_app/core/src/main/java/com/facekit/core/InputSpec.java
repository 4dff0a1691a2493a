package com.facekit.core;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/** The model input: a size x size RGB square, normalised as pixel / std - mean / std in float32 (exporter/spec.py). */
public final class InputSpec {
    public final int size;
    public final float mean;
    public final float std;

    public InputSpec(int size, float mean, float std) {
        if (size < 1 || std == 0) {
            throw new IllegalArgumentException("an input spec needs a positive size and a non-zero std");
        }
        this.size = size;
        this.mean = mean;
        this.std = std;
    }

    /** Writes the normalised square (NHWC float32) into out, exactly as InputSpec.normalise. */
    public void normalise(RgbImage square, FloatBuffer out) {
        float offset = (float) ((double) mean / std);
        for (byte b : square.rgb) {
            out.put((b & 0xff) / std - offset);
        }
    }

    /** Writes the square quantised for a full-int8 input: clip(round_half_even(x / scale + zeroPoint), -128, 127). */
    public void quantise(RgbImage square, float scale, int zeroPoint, ByteBuffer out) {
        float offset = (float) ((double) mean / std);
        for (byte b : square.rgb) {
            float x = (b & 0xff) / std - offset;
            double q = Math.rint(x / scale + (float) zeroPoint);
            out.put((byte) Math.max(-128, Math.min(127, q)));
        }
    }
}
