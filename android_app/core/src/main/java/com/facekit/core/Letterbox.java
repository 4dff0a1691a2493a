package com.facekit.core;

/**
 * How an image was padded to a centred square before resizing, and the letterbox itself: a bit-for-bit port of
 * exporter/preprocess.py (its module docstring is the specification: halvings with (a + b + c + d + 2) / 4, then
 * the exact area mean of the square from its integral image, rounded half up, in 64-bit integers).
 */
public final class Letterbox {
    public final int width;
    public final int height;
    public final float padX;
    public final float padY;
    public final float side;

    public Letterbox(int width, int height, float padX, float padY, float side) {
        this.width = width;
        this.height = height;
        this.padX = padX;
        this.padY = padY;
        this.side = side;
    }

    /** The letterboxed square and its geometry. */
    public static final class Result {
        public final RgbImage square;
        public final Letterbox box;

        Result(RgbImage square, Letterbox box) {
            this.square = square;
            this.box = box;
        }
    }

    /** Normalised model-input x in [0, 1] to image pixels (float32, as Letterbox.to_image). */
    public float toImageX(float x) {
        return x * side - padX;
    }

    /** Normalised model-input y in [0, 1] to image pixels. */
    public float toImageY(float y) {
        return y * side - padY;
    }

    /** A face normalised to the model input, mapped to image pixels. */
    public Face toImage(Face face) {
        float[] box = {toImageX(face.box[0]), toImageY(face.box[1]), toImageX(face.box[2]), toImageY(face.box[3])};
        float[] keypoints = new float[face.keypoints.length];
        for (int i = 0; i < keypoints.length; i += 2) {
            keypoints[i] = toImageX(face.keypoints[i]);
            keypoints[i + 1] = toImageY(face.keypoints[i + 1]);
        }
        return new Face(box, keypoints, face.score, face.age, face.female);
    }

    /** How many 2x2 halvings come before the area resize: the largest n with 2 * size * 2^n <= longestSide. */
    static int halvings(int longestSide, int size) {
        int n = 0;
        while (2L * size * (1L << (n + 1)) <= longestSide) {
            n++;
        }
        return n;
    }

    /** Pads an image to a centred square and resizes it to size x size, exactly as the reference. */
    public static Result apply(RgbImage image, int size) {
        int h = image.height;
        int w = image.width;
        int block = 1 << halvings(Math.max(h, w), size);
        int side = (Math.max(h, w) + block - 1) / block * block;
        int left = (side - w) / 2 / block * block;
        int top = (side - h) / 2 / block * block;
        RgbImage small = image;
        if (block > 1) {
            small = pad(image, ceilDiv(w, block) * block, ceilDiv(h, block) * block);
            while (small.height > ceilDiv(h, block)) {
                small = halve(small);
            }
        }
        int n = side / block;
        RgbImage square = place(small, n, left / block, top / block);
        RgbImage resized = n == size ? square : areaResize(square, size);
        return new Result(resized, new Letterbox(w, h, left, top, side));
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** The image in the top-left corner of a black canvas of the given size. */
    private static RgbImage pad(RgbImage image, int width, int height) {
        return place(image, width, height, 0, 0);
    }

    private static RgbImage place(RgbImage image, int side, int x0, int y0) {
        return place(image, side, side, x0, y0);
    }

    private static RgbImage place(RgbImage image, int width, int height, int x0, int y0) {
        RgbImage out = RgbImage.black(width, height);
        for (int y = 0; y < image.height; y++) {
            System.arraycopy(image.rgb, y * image.width * 3, out.rgb, ((y + y0) * width + x0) * 3, image.width * 3);
        }
        return out;
    }

    /** Exact 2x2 block means of an even-sized image, rounded half up: (a + b + c + d + 2) / 4. */
    static RgbImage halve(RgbImage image) {
        int w = image.width / 2;
        int h = image.height / 2;
        byte[] out = new byte[w * h * 3];
        int stride = image.width * 3;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = 2 * y * stride + 2 * x * 3;
                for (int c = 0; c < 3; c++) {
                    int sum = (image.rgb[i + c] & 0xff) + (image.rgb[i + 3 + c] & 0xff)
                            + (image.rgb[i + stride + c] & 0xff) + (image.rgb[i + stride + 3 + c] & 0xff);
                    out[(y * w + x) * 3 + c] = (byte) ((sum + 2) >> 2);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Exact area mean of an N x N square onto size x size, rounded half up (the reference's integral-image rule). */
    static RgbImage areaResize(RgbImage square, int size) {
        int n = square.width;
        int stride = n + 1;
        long[] integral = new long[stride * stride * 3];
        for (int y = 0; y < n; y++) {
            for (int x = 0; x < n; x++) {
                for (int c = 0; c < 3; c++) {
                    integral[((y + 1) * stride + x + 1) * 3 + c] = square.at(x, y, c)
                            + integral[(y * stride + x + 1) * 3 + c] + integral[((y + 1) * stride + x) * 3 + c]
                            - integral[(y * stride + x) * 3 + c];
                }
            }
        }
        int[] q = new int[size + 1];
        long[] r = new long[size + 1];
        for (int k = 0; k <= size; k++) {
            q[k] = (int) ((long) k * n / size);
            r[k] = (long) k * n % size;
        }
        long[] grid = new long[(size + 1) * (size + 1) * 3];
        for (int k = 0; k <= size; k++) {
            int row0 = q[k] * stride;
            int row1 = Math.min(q[k] + 1, n) * stride;
            for (int l = 0; l <= size; l++) {
                int col0 = q[l];
                int col1 = Math.min(q[l] + 1, n);
                for (int c = 0; c < 3; c++) {
                    long rowsAt0 = (size - r[k]) * integral[(row0 + col0) * 3 + c] + r[k] * integral[(row1 + col0) * 3 + c];
                    long rowsAt1 = (size - r[k]) * integral[(row0 + col1) * 3 + c] + r[k] * integral[(row1 + col1) * 3 + c];
                    grid[(k * (size + 1) + l) * 3 + c] = (size - r[l]) * rowsAt0 + r[l] * rowsAt1;
                }
            }
        }
        byte[] out = new byte[size * size * 3];
        long n2 = (long) n * n;
        int g = size + 1;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                for (int c = 0; c < 3; c++) {
                    long area = grid[((y + 1) * g + x + 1) * 3 + c] - grid[(y * g + x + 1) * 3 + c]
                            - grid[((y + 1) * g + x) * 3 + c] + grid[(y * g + x) * 3 + c];
                    out[(y * size + x) * 3 + c] = (byte) ((2 * area + n2) / (2 * n2));
                }
            }
        }
        return new RgbImage(size, size, out);
    }
}
