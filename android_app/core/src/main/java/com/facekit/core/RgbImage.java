package com.facekit.core;

/** An H x W RGB image, 8 bits a channel, row-major interleaved (the layout the reference works on). */
public final class RgbImage {
    public final int width;
    public final int height;
    public final byte[] rgb;

    public RgbImage(int width, int height, byte[] rgb) {
        if (width <= 0 || height <= 0 || rgb.length != width * height * 3) {
            throw new IllegalArgumentException("an RGB image needs width * height * 3 bytes and a positive size, got "
                    + width + "x" + height + " with " + rgb.length + " bytes");
        }
        this.width = width;
        this.height = height;
        this.rgb = rgb;
    }

    /** A black image. */
    public static RgbImage black(int width, int height) {
        return new RgbImage(width, height, new byte[width * height * 3]);
    }

    /** From packed ARGB pixels (Android's Bitmap.getPixels); alpha is ignored. */
    public static RgbImage fromArgb(int[] argb, int width, int height) {
        byte[] out = new byte[width * height * 3];
        for (int i = 0; i < width * height; i++) {
            int p = argb[i];
            out[3 * i] = (byte) (p >> 16);
            out[3 * i + 1] = (byte) (p >> 8);
            out[3 * i + 2] = (byte) p;
        }
        return new RgbImage(width, height, out);
    }

    /** Channel c (0 R, 1 G, 2 B) of pixel (x, y), 0..255. */
    public int at(int x, int y, int c) {
        return rgb[3 * (y * width + x) + c] & 0xff;
    }
}
