package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Decoding the reference's raw outputs: the same faces after NMS, within the contract's tolerances of the reference. */
class DecodeGoldenTest {

    @Test
    void decodedFacesMatchTheReferenceInInputAndImageCoordinates() throws Exception {
        Map<String, Object> contract = Golden.contract();
        Manifest manifest = Manifest.parse(Golden.text("contract.json"));
        FaceDecoder decoder = manifest.decoder();
        Map<String, Object> tolerances = Json.obj(contract, "tolerances");
        double tolerance = Json.number(tolerances, "decode"); // of the input side (coordinates normalised to [0, 1])
        double ageTolerance = Json.number(tolerances, "age_years");
        assertEquals(manifest.anchorCount, decoder.anchorCount());
        int checked = 0;
        for (Object c : Golden.cases()) {
            Map<String, Object> item = Json.asObject(c);
            String name = Json.string(item, "name");
            float[][] outputs = split(Golden.floats(Json.string(item, "outputs")), Json.array(contract, "outputs"));
            List<Face> faces = decoder.decode(outputs[manifest.outputIndex("regressors")],
                    outputs[manifest.outputIndex("scores")], outputs[manifest.outputIndex("age")],
                    outputs[manifest.outputIndex("gender")]);
            Map<String, Object> box = Json.obj(item, "letterbox");
            Letterbox letterbox = new Letterbox((int) Json.number(item, "width"), (int) Json.number(item, "height"),
                    (float) Json.number(box, "pad_x"), (float) Json.number(box, "pad_y"), (float) Json.number(box, "side"));
            List<Face> inImage = new ArrayList<Face>();
            for (Face face : faces) {
                inImage.add(letterbox.toImage(face));
            }
            assertSame(name + " (input)", Json.array(item, "faces_input"), faces, tolerance, tolerance, ageTolerance);
            assertSame(name + " (image)", Json.array(item, "faces"), inImage, tolerance * letterbox.side, tolerance,
                    ageTolerance);
            checked += faces.size();
        }
        assertEquals(true, checked > 0, "the goldens hold at least one face to compare");
    }

    /** The concatenated outputs split in contract order by their shapes. */
    static float[][] split(float[] all, List<Object> outputs) {
        float[][] out = new float[outputs.size()][];
        int offset = 0;
        for (int i = 0; i < out.length; i++) {
            int count = 1;
            for (Object dim : Json.array(Json.asObject(outputs.get(i)), "shape")) {
                count *= ((Double) dim).intValue();
            }
            out[i] = Arrays.copyOfRange(all, offset, offset + count);
            offset += count;
        }
        assertEquals(all.length, offset, "outputs file size against the output shapes");
        return out;
    }

    static void assertSame(String what, List<Object> expected, List<Face> actual, double tolerance,
                           double scoreTolerance, double ageTolerance) {
        assertEquals(expected.size(), actual.size(), what + ": number of faces after NMS");
        for (int i = 0; i < actual.size(); i++) {
            Face want = Golden.face(Json.asObject(expected.get(i)));
            Face got = actual.get(i);
            String label = what + " face " + i;
            for (int k = 0; k < 4; k++) {
                assertEquals(want.box[k], got.box[k], tolerance, label + " box");
            }
            for (int k = 0; k < want.keypoints.length; k++) {
                assertEquals(want.keypoints[k], got.keypoints[k], tolerance, label + " keypoints");
            }
            assertEquals(want.score, got.score, scoreTolerance, label + " score");
            assertEquals(want.age, got.age, ageTolerance, label + " age");
            assertEquals(want.female, got.female, scoreTolerance, label + " female");
        }
    }
}
