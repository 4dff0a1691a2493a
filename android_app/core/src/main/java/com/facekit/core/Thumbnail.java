package com.facekit.core;

/**
 * The change measure of frame reuse (exporter/reuse.py): a size x size grid of cells, each the sum of SAMPLES x
 * SAMPLES sampled integer lumas (299 R + 587 G + 114 B, sample i at floor((2i + 1) H / 2N)) divided in float32 by
 * SAMPLES^2 * 255000; exact integer sums, so the same float32 bits as the reference.
 */
public final class Thumbnail {
    public static final int SAMPLES = 4;
    public static final int[] LUMA_WEIGHTS = {299, 587, 114};
    public static final int DIVISOR = SAMPLES * SAMPLES * 255000;

    private Thumbnail() {
    }

    /** The thumbnail of a frame, row-major (size * size). */
    public static float[] of(RgbImage frame, int size) {
        int n = size * SAMPLES;
        int[] rows = new int[n];
        int[] cols = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = (int) ((2L * i + 1) * frame.height / (2L * n));
            cols[i] = (int) ((2L * i + 1) * frame.width / (2L * n));
        }
        long[] sums = new long[size * size];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int p = 3 * (rows[i] * frame.width + cols[j]);
                int luma = LUMA_WEIGHTS[0] * (frame.rgb[p] & 0xff) + LUMA_WEIGHTS[1] * (frame.rgb[p + 1] & 0xff)
                        + LUMA_WEIGHTS[2] * (frame.rgb[p + 2] & 0xff);
                sums[(i / SAMPLES) * size + j / SAMPLES] += luma;
            }
        }
        float[] out = new float[size * size];
        for (int k = 0; k < out.length; k++) {
            out[k] = (float) sums[k] / (float) DIVISOR;
        }
        return out;
    }

    /** Largest mean |a - b| over blocks x blocks regions of two size x size thumbnails; cells with ignore set left out. */
    public static double regionChange(float[] a, float[] b, int size, int blocks, boolean[] ignore) {
        int side = size / blocks;
        float best = 0f;
        for (int by = 0; by < blocks; by++) {
            for (int bx = 0; bx < blocks; bx++) {
                double sum = 0;
                int count = 0;
                for (int y = by * side; y < (by + 1) * side; y++) {
                    for (int x = bx * side; x < (bx + 1) * side; x++) {
                        int k = y * size + x;
                        if (ignore == null || !ignore[k]) {
                            sum += Math.abs(a[k] - b[k]);
                            count++;
                        }
                    }
                }
                float mean = count > 0 ? (float) sum / (float) count : 0f;
                best = Math.max(best, mean);
            }
        }
        return best;
    }

    /** Cells (x0, y0, x1, y1) an image-pixel box covers, at least one, inside the grid (reuse._region). */
    public static int[] region(float[] box, int width, int height, int size) {
        int x0 = Math.min(Math.max((int) Math.floor((double) box[0] * size / width), 0), size - 1);
        int y0 = Math.min(Math.max((int) Math.floor((double) box[1] * size / height), 0), size - 1);
        int x1 = Math.min(Math.max((int) Math.ceil((double) box[2] * size / width), x0 + 1), size);
        int y1 = Math.min(Math.max((int) Math.ceil((double) box[3] * size / height), y0 + 1), size);
        return new int[] {x0, y0, x1, y1};
    }

    /**
     * The shift {dx, dy} (cells) that best maps a region of previous onto current, and the mean |diff| left
     * (reuse.best_shift): shifts leaving the grid are skipped; scanning dy then dx from the most negative, a shift
     * replaces the best (which starts at no shift) only when lower by more than 1e-7.
     */
    public static double[] bestShift(float[] previous, float[] current, int size, int[] region, int search) {
        int x0 = region[0];
        int y0 = region[1];
        int x1 = region[2];
        int y1 = region[3];
        int dyLo = Math.max(-search, -y0);
        int dyHi = Math.min(search, size - y1);
        int dxLo = Math.max(-search, -x0);
        int dxHi = Math.min(search, size - x1);
        double[] best = {0, 0, shiftDiff(previous, current, size, region, 0, 0)};
        for (int dy = dyLo; dy <= dyHi; dy++) {
            for (int dx = dxLo; dx <= dxHi; dx++) {
                double diff = shiftDiff(previous, current, size, region, dx, dy);
                if (diff < best[2] - 1e-7) {
                    best = new double[] {dx, dy, diff};
                }
            }
        }
        return best;
    }

    /** Mean |current shifted - previous| over a region, as a float32 value. */
    private static double shiftDiff(float[] previous, float[] current, int size, int[] region, int dx, int dy) {
        double sum = 0;
        for (int y = region[1]; y < region[3]; y++) {
            for (int x = region[0]; x < region[2]; x++) {
                sum += Math.abs(current[(y + dy) * size + x + dx] - previous[y * size + x]);
            }
        }
        return (float) sum / (float) ((region[2] - region[0]) * (region[3] - region[1]));
    }
}
