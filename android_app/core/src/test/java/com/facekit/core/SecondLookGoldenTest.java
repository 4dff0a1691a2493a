package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The second look replayed on the reference's goldens as contract._check_second_looks does: the committed crop outputs
 * stand in for the model; the planned squares, the cut and letterboxed pixels (bit for bit), the crop's faces, the face
 * chosen and the faces after the look must all be the reference's.
 */
class SecondLookGoldenTest {
    @Test
    void theContractShipsTheDefaultSettings() throws Exception {
        SecondLook contract = Manifest.parse(Golden.text("contract.json")).secondLook;
        SecondLook defaults = SecondLook.defaults();
        assertEquals(contract.maxFaceFraction, defaults.maxFaceFraction);
        assertEquals(contract.cropScale, defaults.cropScale);
        assertEquals(contract.maxFaces, defaults.maxFaces);
        assertEquals(contract.refreshEvery, defaults.refreshEvery);
    }

    @Test
    void everyCaseLooksAgainLikeTheReference() throws Exception {
        Map<String, Object> contract = Golden.contract();
        final Manifest manifest = Manifest.parse(Golden.text("contract.json"));
        final List<Object> outputShapes = Json.array(contract, "outputs");
        Map<String, Object> tolerances = Json.obj(contract, "tolerances");
        final double tolerance = Json.number(tolerances, "decode");
        final double ageTolerance = Json.number(tolerances, "age_years");
        int looks = 0;
        for (Object c : Golden.cases()) {
            Map<String, Object> item = Json.asObject(c);
            final String name = Json.string(item, "name");
            RgbImage image = Golden.png(Json.string(item, "source"));
            Letterbox box = Letterbox.apply(image, manifest.input.size).box;
            List<Face> faces = decode(manifest, Golden.floats(Json.string(item, "outputs")), outputShapes, box);
            final List<Object> entries = Json.array(item, "second_look");

            List<SecondLook.Planned> planned = manifest.secondLook.plan(faces, image.width, image.height);
            assertEquals(entries.size(), planned.size(), name + ": looks planned");
            for (int i = 0; i < planned.size(); i++) {
                Map<String, Object> entry = Json.asObject(entries.get(i));
                SecondLook.Planned p = planned.get(i);
                assertArrayEquals(new int[] {Json.integer(entry, "face"), Json.integer(entry, "left"),
                        Json.integer(entry, "top"), Json.integer(entry, "side")},
                        new int[] {p.faceIndex, p.left, p.top, p.side}, name + " look " + i + ": face, left, top, side");
            }

            final List<RgbImage> squares = new ArrayList<RgbImage>();
            final List<float[]> raw = new ArrayList<float[]>();
            for (Object e : entries) {
                squares.add(Golden.png(Json.string(Json.asObject(e), "square")));
                raw.add(Golden.floats(Json.string(Json.asObject(e), "outputs")));
            }
            final int[] taken = {0};
            List<Face> after = manifest.secondLook.lookAgain(image, faces, crop -> {
                int k = taken[0]++;
                Map<String, Object> entry = Json.asObject(entries.get(k));
                String label = name + " look at face " + Json.integer(entry, "face");
                Letterbox.Result square = Letterbox.apply(crop, manifest.input.size);
                assertArrayEquals(squares.get(k).rgb, square.square.rgb, label + ": cut and letterboxed pixels");
                List<Face> found = decode(manifest, raw.get(k), outputShapes, square.box);
                DecodeGoldenTest.assertSame(label + " (crop pixels)", Json.array(entry, "faces"), found,
                        tolerance * square.box.side, tolerance, ageTolerance);
                Object chosen = entry.get("chosen");
                assertEquals(chosen == null ? -1 : ((Double) chosen).intValue(),
                        SecondLook.nearestToCentre(found, Json.integer(entry, "side")), label + ": face chosen");
                return found;
            });
            assertEquals(entries.size(), taken[0], name + ": crops run through the model");
            DecodeGoldenTest.assertSame(name + " after the second look", Json.array(item, "faces_after_second_look"),
                    after, tolerance * Math.max(image.width, image.height), tolerance, ageTolerance);
            looks += taken[0];
        }
        assertTrue(looks > 0, "the goldens hold at least one second look");
    }

    /** Committed raw outputs decoded and mapped to the pixels of the image the letterbox came from. */
    private static List<Face> decode(Manifest manifest, float[] raw, List<Object> shapes, Letterbox box) {
        float[][] outputs = DecodeGoldenTest.split(raw, shapes);
        List<Face> out = new ArrayList<Face>();
        for (Face face : manifest.decoder().decode(outputs[manifest.outputIndex("regressors")],
                outputs[manifest.outputIndex("scores")], outputs[manifest.outputIndex("age")],
                outputs[manifest.outputIndex("gender")])) {
            out.add(box.toImage(face));
        }
        return out;
    }
}
