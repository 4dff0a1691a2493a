package com.facekit.core;

import java.util.ArrayList;
import java.util.List;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

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

    /**
     * Frames stored one after the other as height x width x 3 RGB bytes in one raw DEFLATE stream (RFC 1951, no zlib
     * header: the golden reuse traces' frames.data once base64-decoded). The stream must hold exactly count frames.
     */
    public static List<RgbImage> inflateFrames(byte[] deflated, int width, int height, int count) {
        int frameBytes = width * height * 3;
        byte[] pixels = new byte[count * frameBytes];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(deflated);
            int done = 0;
            while (done < pixels.length && !inflater.finished()) {
                int got = inflater.inflate(pixels, done, pixels.length - done);
                if (got == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
                    break;
                }
                done += got;
            }
            if (done < pixels.length || !inflater.finished() && inflater.inflate(new byte[1]) > 0) {
                throw new IllegalArgumentException("the DEFLATE stream does not hold exactly " + count + " frames of "
                        + width + "x" + height + " RGB (" + pixels.length + " bytes), got " + done
                        + (done < pixels.length ? "" : " or more") + " bytes");
            }
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("the frames are not a raw DEFLATE stream: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
        List<RgbImage> out = new ArrayList<RgbImage>();
        for (int i = 0; i < count; i++) {
            byte[] rgb = new byte[frameBytes];
            System.arraycopy(pixels, i * frameBytes, rgb, 0, frameBytes);
            out.add(new RgbImage(width, height, rgb));
        }
        return out;
    }
}
