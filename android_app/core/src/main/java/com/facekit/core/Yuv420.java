package com.facekit.core;

/** YUV 4:2:0 camera frames (camera2's YUV_420_888 planes, any strides) to upright RGB. */
public final class Yuv420 {
    private Yuv420() {
    }

    /**
     * Full-range BT.601 (JPEG/JFIF, what camera2 delivers) to RGB in integers: R = Y + 1.402 (V - 128),
     * G = Y - 0.344136 (U - 128) - 0.714136 (V - 128), B = Y + 1.772 (U - 128), each x 2^16 and rounded; the
     * image is turned clockwise by rotationDegrees (0, 90, 180 or 270: the camera's sensor orientation relative to
     * the display) in the same pass, so the model sees faces upright.
     */
    public static RgbImage toRgb(byte[] y, int yRowStride, byte[] u, byte[] v, int uvRowStride, int uvPixelStride,
                                 int width, int height, int rotationDegrees) {
        if (rotationDegrees % 90 != 0) {
            throw new IllegalArgumentException("rotation must be a multiple of 90 degrees, got " + rotationDegrees);
        }
        int turns = ((rotationDegrees / 90) % 4 + 4) % 4;
        int outWidth = turns % 2 == 0 ? width : height;
        byte[] out = new byte[width * height * 3];
        for (int row = 0; row < height; row++) {
            int yBase = row * yRowStride;
            int uvBase = (row >> 1) * uvRowStride;
            for (int col = 0; col < width; col++) {
                int luma = (y[yBase + col] & 0xff) << 16;
                int uv = uvBase + (col >> 1) * uvPixelStride;
                int cb = (u[uv] & 0xff) - 128;
                int cr = (v[uv] & 0xff) - 128;
                int o = 3 * destination(col, row, width, height, turns, outWidth);
                out[o] = clamp((luma + 91881 * cr + 32768) >> 16);
                out[o + 1] = clamp((luma - 22554 * cb - 46802 * cr + 32768) >> 16);
                out[o + 2] = clamp((luma + 116130 * cb + 32768) >> 16);
            }
        }
        return new RgbImage(outWidth, width * height / outWidth, out);
    }

    /** Index of source pixel (x, y) in the image turned clockwise by turns quarter turns. */
    static int destination(int x, int y, int width, int height, int turns, int outWidth) {
        switch (turns) {
            case 1: return x * outWidth + (height - 1 - y);
            case 2: return (height - 1 - y) * outWidth + (width - 1 - x);
            case 3: return (width - 1 - x) * outWidth + y;
            default: return y * outWidth + x;
        }
    }

    private static byte clamp(int value) {
        return (byte) (value < 0 ? 0 : value > 255 ? 255 : value);
    }
}
