package com.facekit.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The export bundle's manifest.json (exporter/schemas/manifest.schema.json): every constant the app needs (input
 * size and normalisation, anchors, decode thresholds, output names and order, keypoint order, age scale, the model
 * files and their sha256, the second look's settings when it has them). The golden contract.json has the same fields,
 * so the tests read it with this class too.
 */
public final class Manifest {
    /** One model file of the bundle. */
    public static final class Model {
        public final String format;
        public final String precision;
        public final String file;
        public final String sha256;

        Model(String format, String precision, String file, String sha256) {
            this.format = format;
            this.precision = precision;
            this.file = file;
            this.sha256 = sha256;
        }
    }

    public final InputSpec input;
    public final AnchorSpec anchors;
    public final int anchorCount;
    public final DecodeConfig decode;
    public final List<String> outputNames;
    public final List<String> keypoints;
    public final List<Model> models;
    /** The "second_look" settings; null when the file has none. */
    public final SecondLook secondLook;

    private Manifest(InputSpec input, AnchorSpec anchors, int anchorCount, DecodeConfig decode, List<String> outputNames,
                     List<String> keypoints, List<Model> models, SecondLook secondLook) {
        this.input = input;
        this.anchors = anchors;
        this.anchorCount = anchorCount;
        this.decode = decode;
        this.outputNames = outputNames;
        this.keypoints = keypoints;
        this.models = models;
        this.secondLook = secondLook;
    }

    /** Parses a manifest; a missing or malformed field gives an IllegalArgumentException naming it. */
    public static Manifest parse(String text) {
        Object parsed = Json.parse(text);
        Map<String, Object> root = Json.asObject(parsed);
        Map<String, Object> input = Json.obj(root, "input");
        Map<String, Object> normalisation = input.get("normalisation") instanceof Map
                ? Json.obj(input, "normalisation") : input;
        InputSpec inputSpec = new InputSpec((int) Json.number(input, "size"),
                (float) Json.number(normalisation, "mean"), (float) Json.number(normalisation, "std"));

        Map<String, Object> a = Json.obj(root, "anchors");
        List<Object> strideList = Json.array(a, "strides");
        int[] strides = new int[strideList.size()];
        for (int i = 0; i < strides.length; i++) {
            strides[i] = ((Double) strideList.get(i)).intValue();
        }
        AnchorSpec anchorSpec = new AnchorSpec((int) Json.number(a, "input_size"), strides, Json.number(a, "min_scale"),
                Json.number(a, "max_scale"), Json.number(a, "offset"), Json.bool(a, "interpolated_scale"));
        int count = (int) Json.number(a, "count");
        int generated = anchorSpec.centres().length / 2;
        if (generated != count) {
            throw new IllegalArgumentException("the anchors spec gives " + generated + " anchors but the manifest says "
                    + count);
        }

        Map<String, Object> d = Json.obj(root, "decode");
        DecodeConfig decode = new DecodeConfig((float) Json.number(d, "score_threshold"),
                (float) Json.number(d, "iou_threshold"), (float) Json.number(d, "age_scale"));

        List<String> outputs = new ArrayList<String>();
        for (Object o : Json.array(root, "outputs")) {
            outputs.add(Json.string(Json.asObject(o), "name"));
        }
        List<String> keypoints = new ArrayList<String>();
        for (Object k : Json.array(root, "keypoints")) {
            keypoints.add((String) k);
        }
        List<Model> models = new ArrayList<Model>();
        if (root.get("models") instanceof List) {
            for (Object m : Json.array(root, "models")) {
                Map<String, Object> model = Json.asObject(m);
                String file = Json.string(model, "file");
                models.add(new Model(Json.string(model, "format"), Json.string(model, "precision"), file,
                        Json.string(Json.obj(model, "files"), file)));
            }
        }
        SecondLook secondLook = root.get("second_look") instanceof Map
                ? SecondLook.fromJson(Json.obj(root, "second_look")) : null;
        return new Manifest(inputSpec, anchorSpec, count, decode, Collections.unmodifiableList(outputs),
                Collections.unmodifiableList(keypoints), Collections.unmodifiableList(models), secondLook);
    }

    /** The decoder these constants describe. */
    public FaceDecoder decoder() {
        return new FaceDecoder(anchors, input.size, decode);
    }

    /** The model files of one format (e.g. "tflite"), in the manifest's order. */
    public List<Model> models(String format) {
        List<Model> out = new ArrayList<Model>();
        for (Model m : models) {
            if (m.format.equals(format)) {
                out.add(m);
            }
        }
        return out;
    }

    /** Position of an output in the manifest's order, or an error naming the output. */
    public int outputIndex(String name) {
        int i = outputNames.indexOf(name);
        if (i < 0) {
            throw new IllegalArgumentException("the manifest has no output \"" + name + "\"; it has " + outputNames);
        }
        return i;
    }
}
