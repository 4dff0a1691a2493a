package com.facekit.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** Raw outputs of one image to faces: anchors, decoding, score threshold and weighted NMS (postprocess.py). */
public final class FaceDecoder {
    private static final float LOGIT_CLIP = 100f;
    /** The reference's message (postprocess.NOT_FINITE) for outputs that are NaN or infinite. */
    public static final String NOT_FINITE = "the model produced NaN or infinite outputs (damaged weights or a broken "
            + "conversion); use another checkpoint or export again";

    private final float[] anchors;
    private final int inputSize;
    private final DecodeConfig config;

    public FaceDecoder(AnchorSpec anchorSpec, int inputSize, DecodeConfig config) {
        this.anchors = anchorSpec.centres();
        this.inputSize = inputSize;
        this.config = config;
    }

    /** Number of anchors (the outputs' first dimension). */
    public int anchorCount() {
        return anchors.length / 2;
    }

    /** Logistic function of a logit clipped to [-100, 100], computed without overflow. */
    public static float sigmoid(float logit) {
        float x = Math.max(-LOGIT_CLIP, Math.min(LOGIT_CLIP, logit));
        float e = (float) Math.exp(-Math.abs(x));
        return x >= 0 ? 1f / (1f + e) : e / (1f + e);
    }

    /**
     * Faces normalised to the input square. regressors: anchors x perAnchor (box, then keypoints); scores: logits;
     * age and gender may be null (no attribute outputs).
     */
    public List<Face> decode(float[] regressors, float[] scores, float[] age, float[] gender) {
        int count = anchorCount();
        if (scores.length != count || regressors.length % count != 0) {
            throw new IllegalArgumentException("outputs do not match the " + count + " anchors of the manifest: "
                    + scores.length + " scores, " + regressors.length + " regressor values");
        }
        int per = regressors.length / count;
        List<Integer> kept = new ArrayList<Integer>();
        final float[] probability = new float[count];
        for (int i = 0; i < count; i++) {
            if (Float.isNaN(scores[i])) {
                throw new IllegalArgumentException(NOT_FINITE);
            }
            probability[i] = sigmoid(scores[i]);
            if (probability[i] >= config.scoreThreshold) {
                kept.add(i);
            }
        }
        int n = kept.size();
        float[][] decoded = new float[n][];
        float[] keptScores = new float[n];
        for (int j = 0; j < n; j++) {
            int anchor = kept.get(j);
            decoded[j] = decodeOne(regressors, anchor, per);
            keptScores[j] = probability[anchor];
            boolean finite = (age == null || isFinite(age[anchor] * config.ageScale))
                    && (gender == null || isFinite(gender[anchor]));
            for (float v : decoded[j]) {
                finite &= isFinite(v);
            }
            if (!finite) { // as the reference: NaN logits, or non-finite values among the kept anchors
                throw new IllegalArgumentException(NOT_FINITE);
            }
        }
        List<Face> faces = new ArrayList<Face>();
        for (int[] cluster : clusters(decoded, keptScores, config.iouThreshold)) {
            faces.add(blend(cluster, decoded, keptScores, kept, age, gender, per));
        }
        return faces;
    }

    private static boolean isFinite(float v) {
        return !Float.isNaN(v) && !Float.isInfinite(v);
    }

    /** One anchor's regressors to [xmin, ymin, xmax, ymax, kx0, ky0, ...] normalised (decode_regressors). */
    private float[] decodeOne(float[] regressors, int anchor, int per) {
        int base = anchor * per;
        float ax = anchors[2 * anchor];
        float ay = anchors[2 * anchor + 1];
        float size = inputSize;
        float cx = regressors[base] / size + ax;
        float cy = regressors[base + 1] / size + ay;
        float w = regressors[base + 2] / size;
        float h = regressors[base + 3] / size;
        float[] out = new float[per];
        out[0] = cx - w / 2;
        out[1] = cy - h / 2;
        out[2] = cx + w / 2;
        out[3] = cy + h / 2;
        for (int k = 4; k < per; k += 2) {
            out[k] = regressors[base + k] / size + ax;
            out[k + 1] = regressors[base + k + 1] / size + ay;
        }
        return out;
    }

    /** Weighted-NMS clusters: the best remaining detection and every remaining one above the IoU threshold. */
    static List<int[]> clusters(final float[][] decoded, final float[] scores, float iouThreshold) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, new Comparator<Integer>() {
            @Override
            public int compare(Integer a, Integer b) {
                return Float.compare(scores[b], scores[a]); // descending; the sort is stable, so ties keep index order
            }
        });
        List<Integer> remaining = new ArrayList<Integer>(Arrays.asList(order));
        List<int[]> out = new ArrayList<int[]>();
        while (!remaining.isEmpty()) {
            float[] top = decoded[remaining.get(0)];
            List<Integer> members = new ArrayList<Integer>();
            List<Integer> rest = new ArrayList<Integer>();
            for (int k = 0; k < remaining.size(); k++) {
                int i = remaining.get(k);
                (k == 0 || Boxes.iou(top, decoded[i]) > iouThreshold ? members : rest).add(i);
            }
            int[] cluster = new int[members.size()];
            for (int k = 0; k < cluster.length; k++) {
                cluster[k] = members.get(k);
            }
            out.add(cluster);
            remaining = rest;
        }
        return out;
    }

    private Face blend(int[] cluster, float[][] decoded, float[] scores, List<Integer> kept, float[] age,
                       float[] gender, int per) {
        float total = 0f;
        for (int i : cluster) {
            total += scores[i];
        }
        float[] blended = new float[per];
        float ageSum = 0f;
        float femaleSum = 0f;
        for (int i : cluster) {
            float weight = scores[i] / total;
            for (int k = 0; k < per; k++) {
                blended[k] += weight * decoded[i][k];
            }
            int anchor = kept.get(i);
            if (age != null) {
                ageSum += weight * (age[anchor] * config.ageScale);
            }
            if (gender != null) {
                femaleSum += weight * sigmoid(gender[anchor]);
            }
        }
        return new Face(Arrays.copyOfRange(blended, 0, 4), Arrays.copyOfRange(blended, 4, per), scores[cluster[0]],
                age == null ? Double.NaN : ageSum, gender == null ? Double.NaN : Math.min(Math.max(femaleSum, 0f), 1f));
    }
}
