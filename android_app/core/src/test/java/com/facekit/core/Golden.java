package com.facekit.core;

import java.awt.image.Raster;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** The committed goldens (tests/golden, written by the Python reference): where they are and how to read them. */
final class Golden {
    /** The folder, from the system property facekit.golden (set by android_app/tools/android_check.sh). */
    static final File DIR = new File(System.getProperty("facekit.golden", "../tests/golden"));

    private Golden() {
    }

    static String text(String name) throws IOException {
        File file = new File(DIR, name);
        if (!file.isFile()) {
            throw new IOException(file + " is missing: the core tests need the committed goldens (tests/golden)");
        }
        return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
    }

    static Map<String, Object> contract() throws IOException {
        return Json.asObject(Json.parse(text("contract.json")));
    }

    static List<Object> cases() throws IOException {
        return Json.array(contract(), "cases");
    }

    /** A PNG as an RGB image (raw samples, no colour management). */
    static RgbImage png(String name) throws IOException {
        Raster raster = ImageIO.read(new File(DIR, name)).getRaster();
        int w = raster.getWidth();
        int h = raster.getHeight();
        int bands = raster.getNumBands();
        byte[] rgb = new byte[w * h * 3];
        int[] pixel = new int[bands];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.getPixel(x, y, pixel);
                for (int c = 0; c < 3; c++) {
                    rgb[3 * (y * w + x) + c] = (byte) pixel[bands >= 3 ? c : 0];
                }
            }
        }
        return new RgbImage(w, h, rgb);
    }

    /** A file of little-endian float32 values. */
    static float[] floats(String name) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(new File(DIR, name).toPath())).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.remaining() / 4];
        bytes.asFloatBuffer().get(out);
        return out;
    }

    /** A golden face ({"box", "keypoints", "score", "age", "female"}) as a Face. */
    static Face face(Map<String, Object> json) {
        float[] box = Json.floats(Json.array(json, "box"));
        List<Object> points = Json.array(json, "keypoints");
        float[] keypoints = new float[2 * points.size()];
        for (int i = 0; i < points.size(); i++) {
            @SuppressWarnings("unchecked")
            float[] xy = Json.floats((List<Object>) points.get(i));
            keypoints[2 * i] = xy[0];
            keypoints[2 * i + 1] = xy[1];
        }
        Object age = json.get("age");
        Object female = json.get("female");
        return new Face(box, keypoints, Json.number(json, "score"), age == null ? Double.NaN : (Double) age,
                female == null ? Double.NaN : (Double) female);
    }
}
