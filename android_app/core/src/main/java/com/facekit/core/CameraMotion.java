package com.facekit.core;

/**
 * Camera motion of frame reuse (exporter/reuse.py, step 2): the camera's shift from the column and row sums of the
 * luma samples, and the reference samples moved by it summed into cells from their summed-area table. Exact integers.
 */
public final class CameraMotion {
    private CameraMotion() {
    }

    /** Column sums, then row sums, of an n x n sample grid (reuse.profiles). */
    public static long[][] profiles(int[] luma, int n) {
        long[] columns = new long[n];
        long[] rows = new long[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                columns[j] += luma[i * n + j];
                rows[i] += luma[i * n + j];
            }
        }
        return new long[][] {columns, rows};
    }

    /**
     * Per profile (column sums, row sums), the shift s in samples that best maps the reference profile onto the
     * current one, profile[i] ~ reference[i - s]: shifts tried 0, -1, +1, -2, +2, ... up to search, the cost sum
     * |P[i] - R[i - s]| over the overlap divided by its length, the first lowest wins (reuse.global_shift).
     */
    public static int[] globalShift(long[][] profiles, long[][] references, int search) {
        int[] out = new int[profiles.length];
        for (int p = 0; p < profiles.length; p++) {
            long[] profile = profiles[p];
            long[] reference = references[p];
            int n = profile.length;
            int limit = Math.min(search, n - 1);
            int best = 0;
            double bestCost = 0;
            for (int t = 0; t <= 2 * limit; t++) {
                int s = t == 0 ? 0 : (t % 2 == 1 ? -(t + 1) / 2 : t / 2);
                long sum = 0;
                int length = 0;
                for (int i = Math.max(s, 0); i < Math.min(n + s, n); i++) {
                    sum += Math.abs(profile[i] - reference[i - s]);
                    length++;
                }
                double cost = (double) sum / length;
                if (t == 0 || cost < bestCost) {
                    best = s;
                    bestCost = cost;
                }
            }
            out[p] = best;
        }
        return out;
    }

    /** Summed-area table of an n x n sample grid: (n + 1) x (n + 1), row-major, zero first row and column (reuse.integral). */
    public static long[] integral(int[] luma, int n) {
        int m = n + 1;
        long[] table = new long[m * m];
        for (int i = 0; i < n; i++) {
            long row = 0;
            for (int j = 0; j < n; j++) {
                row += luma[i * n + j];
                table[(i + 1) * m + j + 1] = table[i * m + j + 1] + row;
            }
        }
        return table;
    }

    /** Cells [first, last) whose samples moved by shift come wholly from inside 0..n (reuse._inside). */
    static int[] inside(int shift, int n) {
        int cells = n / Thumbnail.SAMPLES;
        int first = Math.min(Math.max(-Math.floorDiv(-shift, Thumbnail.SAMPLES), 0), cells);
        int last = Math.max(Math.min(Math.floorDiv(n + shift, Thumbnail.SAMPLES), cells), 0);
        return new int[] {first, last};
    }

    /**
     * Cell sums of the samples (given as their summed-area table over an n x n grid) moved by (dx, dy), into
     * cells; compared[k] says which cells lie wholly inside the moved picture, the others hold 0 (reuse.shifted_cells).
     */
    public static long[] shiftedCells(long[] table, int n, int dx, int dy, boolean[] compared) {
        int size = n / Thumbnail.SAMPLES;
        int m = n + 1;
        int[] rows = inside(dy, n);
        int[] cols = inside(dx, n);
        long[] cells = new long[size * size];
        for (int r = rows[0]; r < rows[1]; r++) {
            for (int c = cols[0]; c < cols[1]; c++) {
                int y = Thumbnail.SAMPLES * r - dy;
                int x = Thumbnail.SAMPLES * c - dx;
                int y1 = y + Thumbnail.SAMPLES;
                int x1 = x + Thumbnail.SAMPLES;
                cells[r * size + c] = table[y1 * m + x1] - table[y * m + x1] - table[y1 * m + x] + table[y * m + x];
                compared[r * size + c] = true;
            }
        }
        return cells;
    }

    /** A shift in samples as whole cells, halves away from zero (reuse._round_cells). */
    public static int roundCells(int samples) {
        return Integer.signum(samples) * ((Math.abs(samples) + Thumbnail.SAMPLES / 2) / Thumbnail.SAMPLES);
    }
}
