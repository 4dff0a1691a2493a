package com.facekit.core;

/**
 * The change measure of frame reuse (exporter/reuse.py): the frame sampled on an N x N grid (N = size * SAMPLES,
 * sample i at floor((2i + 1) H / 2N)), each sample the integer luma 299 R + 587 G + 114 B; a cell of the size x size
 * thumbnail holds the integer sum of its SAMPLES x SAMPLES samples, divided in float32 by SAMPLES^2 * 255000 for
 * display. Changes are exact integer sums, compared with thresholds in double as the reference does.
 */
public final class Thumbnail {
    public static final int SAMPLES = 4;
    public static final int[] LUMA_WEIGHTS = {299, 587, 114};
    /** A cell sum divided by this is its mean luma in [0, 1] (reuse.LUMA_SCALE). */
    public static final int DIVISOR = SAMPLES * SAMPLES * 255000;
    /** Border ring depth and segment length, in cells (reuse.EDGE_RING, reuse.EDGE_SEGMENT). */
    public static final int EDGE_RING = 2;
    public static final int EDGE_SEGMENT = 4;

    private Thumbnail() {
    }

    /** Integer luma of the (size * SAMPLES)^2 sample grid, row-major (reuse.luma_samples). */
    public static int[] lumaSamples(RgbImage frame, int size) {
        int n = size * SAMPLES;
        int[] rows = new int[n];
        int[] cols = new int[n];
        for (int i = 0; i < n; i++) {
            rows[i] = (int) ((2L * i + 1) * frame.height / (2L * n));
            cols[i] = (int) ((2L * i + 1) * frame.width / (2L * n));
        }
        int[] luma = new int[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int p = 3 * (rows[i] * frame.width + cols[j]);
                luma[i * n + j] = LUMA_WEIGHTS[0] * (frame.rgb[p] & 0xff) + LUMA_WEIGHTS[1] * (frame.rgb[p + 1] & 0xff)
                        + LUMA_WEIGHTS[2] * (frame.rgb[p + 2] & 0xff);
            }
        }
        return luma;
    }

    /** Integer sums of SAMPLES x SAMPLES blocks of the samples of a size x size grid, row-major (reuse.cell_sums). */
    public static long[] cellSums(int[] luma, int size) {
        int n = size * SAMPLES;
        long[] sums = new long[size * size];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sums[(i / SAMPLES) * size + j / SAMPLES] += luma[i * n + j];
            }
        }
        return sums;
    }

    /** The thumbnail of a frame, row-major (size * size), mean luma in [0, 1] (reuse.thumbnail). */
    public static float[] of(RgbImage frame, int size) {
        long[] sums = cellSums(lumaSamples(frame, size), size);
        float[] out = new float[size * size];
        for (int k = 0; k < out.length; k++) {
            out[k] = (float) sums[k] / (float) DIVISOR;
        }
        return out;
    }

    /** Whether a summed |cell difference| over some cells is a mean change above the threshold (reuse._exceeds). */
    public static boolean exceeds(long total, long cells, double threshold) {
        return total > threshold * cells * DIVISOR;
    }

    /** A (sum, cells) pair as a mean change in [0, 1] (reuse._change). */
    public static double change(long[] pair) {
        return (double) pair[0] / ((double) pair[1] * DIVISOR);
    }

    /** Per cell its region: blocks x blocks, row-major (reuse._labels, first part). */
    static int[] regionLabels(int size, int blocks) {
        int side = size / blocks;
        int[] labels = new int[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                labels[y * size + x] = (y / side) * blocks + x / side;
            }
        }
        return labels;
    }

    /**
     * Per cell its border segment (EDGE_RING deep, EDGE_SEGMENT long: top, bottom, then left and right between
     * them, each numbered from its start), -1 for the inner cells (reuse._labels, second part).
     */
    static int[] segmentLabels(int size) {
        int perSide = size / EDGE_SEGMENT;
        int[] labels = new int[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int label = -1;
                if (y < EDGE_RING) {
                    label = x / EDGE_SEGMENT;
                } else if (y >= size - EDGE_RING) {
                    label = perSide + x / EDGE_SEGMENT;
                } else if (x < EDGE_RING) {
                    label = 2 * perSide + y / EDGE_SEGMENT;
                } else if (x >= size - EDGE_RING) {
                    label = 3 * perSide + y / EDGE_SEGMENT;
                }
                labels[y * size + x] = label;
            }
        }
        return labels;
    }

    /** Number of border segments of a size x size grid. */
    static int segmentCount(int size) {
        return 4 * (size / EDGE_SEGMENT);
    }

    /**
     * (sum, cells) of the group with the largest mean |difference| over kept cells, the first of equal means;
     * (0, 1) when no cell is kept (reuse._largest_means, one grouping). Cells labelled -1 belong to no group.
     */
    static long[] largestMean(long[] diff, boolean[] keep, int[] labels, int groups) {
        long[] sums = new long[groups];
        long[] cells = new long[groups];
        for (int k = 0; k < diff.length; k++) {
            if (labels[k] >= 0 && (keep == null || keep[k])) {
                sums[labels[k]] += diff[k];
                cells[labels[k]]++;
            }
        }
        int best = 0;
        double bestMean = 0;
        for (int g = 0; g < groups; g++) {
            double mean = cells[g] > 0 ? (double) sums[g] / (double) cells[g] : -1.0;
            if (g == 0 || mean > bestMean) {
                best = g;
                bestMean = mean;
            }
        }
        return cells[best] > 0 ? new long[] {sums[best], cells[best]} : new long[] {0, 1};
    }

    /** (sum, cells) of the region with the largest mean |difference|; keep null keeps every cell (reuse.region_change). */
    public static long[] regionChange(long[] diff, int size, int blocks, boolean[] keep) {
        return largestMean(diff, keep, regionLabels(size, blocks), blocks * blocks);
    }

    /** (sum, cells) of the border-ring segment with the largest mean |difference| over kept cells. */
    public static long[] borderChange(long[] diff, int size, boolean[] keep) {
        return largestMean(diff, keep, segmentLabels(size), segmentCount(size));
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
     * The cell shift {dx, dy} within search of the centre that best maps a region of previous onto current (integer
     * cell sums), and the sum |difference| left; {0, 0, -1} when no shift fits in the grid (reuse.best_shift).
     * Scanning dy, then dx, from the most negative, the first lowest sum wins; the centre wins a tie.
     */
    public static long[] bestShift(long[] previous, long[] current, int size, int[] region, int search, int cx, int cy) {
        int x0 = region[0];
        int y0 = region[1];
        int x1 = region[2];
        int y1 = region[3];
        int dyLo = Math.max(cy - search, -y0);
        int dyHi = Math.min(cy + search, size - y1);
        int dxLo = Math.max(cx - search, -x0);
        int dxHi = Math.min(cx + search, size - x1);
        if (dyLo > dyHi || dxLo > dxHi) { // the face has left the picture
            return new long[] {0, 0, -1};
        }
        long[] best = null;
        long centreSum = -1;
        for (int dy = dyLo; dy <= dyHi; dy++) {
            for (int dx = dxLo; dx <= dxHi; dx++) {
                long sum = shiftDiff(previous, current, size, region, dx, dy);
                if (best == null || sum < best[2]) {
                    best = new long[] {dx, dy, sum};
                }
                if (dx == cx && dy == cy) {
                    centreSum = sum;
                }
            }
        }
        if (centreSum >= 0 && centreSum == best[2]) {
            return new long[] {cx, cy, centreSum};
        }
        return best;
    }

    /** Sum |current shifted by (dx, dy) - previous| over a region. */
    private static long shiftDiff(long[] previous, long[] current, int size, int[] region, int dx, int dy) {
        long sum = 0;
        for (int y = region[1]; y < region[3]; y++) {
            for (int x = region[0]; x < region[2]; x++) {
                sum += Math.abs(current[(y + dy) * size + x + dx] - previous[y * size + x]);
            }
        }
        return sum;
    }
}
