package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The frame-reuse scheduler replayed on the reference's golden traces (reuse_traces.json): every decision exactly, the
 * second look's too (an entry with "second_look" answers each look with its committed "look_answers").
 */
class ReuseTraceTest {
    private static Map<String, Object> traces() throws Exception {
        return Json.asObject(Json.parse(Golden.text(Json.string(Golden.contract(), "reuse_traces"))));
    }

    private static List<RgbImage> frames(Map<String, Object> traces) {
        Map<String, Object> spec = Json.obj(traces, "frames");
        int w = (int) Json.number(spec, "width");
        int h = (int) Json.number(spec, "height");
        return RgbImage.inflateFrames(Base64.getDecoder().decode(Json.string(spec, "data")), w, h,
                (int) Json.number(spec, "count"));
    }

    @Test
    void thumbnailsAreBitForBit() throws Exception {
        Map<String, Object> traces = traces();
        Map<String, Object> spec = Json.obj(traces, "thumbnail");
        assertEquals(Thumbnail.SAMPLES, (int) Json.number(spec, "samples"));
        assertEquals(Thumbnail.DIVISOR, (int) Json.number(spec, "divisor"));
        List<Object> weights = Json.array(spec, "luma_weights");
        for (int i = 0; i < 3; i++) {
            assertEquals(Thumbnail.LUMA_WEIGHTS[i], ((Double) weights.get(i)).intValue());
        }
        int size = (int) Json.number(spec, "size");
        List<RgbImage> frames = frames(traces);
        List<Object> thumbnails = Json.array(traces, "thumbnails");
        assertTrue(thumbnails.size() > 0, "the traces store thumbnails");
        for (int i = 0; i < thumbnails.size(); i++) {
            float[] want = new float[size * size];
            int k = 0;
            for (Object row : (List<?>) thumbnails.get(i)) {
                for (Object v : (List<?>) row) {
                    want[k++] = ((Double) v).floatValue();
                }
            }
            assertArrayEquals(want, Thumbnail.of(frames.get(i), size), "thumbnail of frame " + i);
        }
    }

    @Test
    void everyPolicyReproducesItsTrace() throws Exception {
        Map<String, Object> traces = traces();
        List<RgbImage> frames = frames(traces);
        final List<List<Face>> detections = new ArrayList<List<Face>>();
        for (Object frameFaces : Json.array(traces, "detections")) {
            List<Face> faces = new ArrayList<Face>();
            for (Object f : (List<?>) frameFaces) {
                faces.add(Golden.face(Json.asObject(f)));
            }
            detections.add(faces);
        }
        final int[] current = {0};
        final int[] calls = {0};
        FrameReuseScheduler.Detector detector = frame -> detections.get(current[0]);
        List<String> plain = new ArrayList<String>();
        int looked = 0;
        for (Object p : Json.array(traces, "policies")) {
            Map<String, Object> entry = Json.asObject(p);
            ReuseConfig config = ReuseConfig.fromJson(Json.obj(entry, "config"));
            boolean second = entry.containsKey("second_look");
            FrameReuseScheduler scheduler = new FrameReuseScheduler(detector, config);
            if (second) { // the k-th look on frame i answers look_answers[i][k] (null: no face found)
                List<Object> answers = Json.array(entry, "look_answers");
                scheduler = new FrameReuseScheduler(detector, config, SecondLook.fromJson(Json.obj(entry, "second_look")),
                        (frame, face) -> {
                            Object answer = ((List<?>) answers.get(current[0])).get(calls[0]++);
                            return answer == null ? null : face.withAttributes(
                                    Json.number(Json.asObject(answer), "age"), Json.number(Json.asObject(answer), "female"));
                        });
            } else {
                plain.add(config.policy);
            }
            List<Object> trace = Json.array(entry, "trace");
            assertEquals(frames.size(), trace.size());
            for (int i = 0; i < frames.size(); i++) {
                current[0] = i;
                calls[0] = 0;
                FrameDecision got = scheduler.step(frames.get(i));
                Map<String, Object> want = Json.asObject(trace.get(i));
                String label = config.policy + (second ? " with a second look" : "") + " frame " + i;
                assertEquals((int) Json.number(want, "index"), got.index, label);
                assertEquals(Json.bool(want, "ran_model"), got.ranModel, label + " ran_model");
                assertEquals(Json.string(want, "reason"), got.reason, label + " reason");
                assertEquals(Json.number(want, "change"), got.change, 1e-5, label + " change");
                List<Object> motion = Json.array(want, "motion");
                assertArrayEquals(new int[] {((Double) motion.get(0)).intValue(), ((Double) motion.get(1)).intValue()},
                        got.motion, label + " motion");
                assertArrayEquals(ints(Json.array(want, "track_ids")), got.trackIds, label + " track ids");
                assertArrayEquals(ints(Json.array(want, "looked")), got.looked, label + " looked");
                assertEquals(got.looked.length, calls[0], label + " looks taken");
                looked += got.looked.length;
                List<Object> faces = Json.array(want, "faces");
                assertEquals(faces.size(), got.faces.size(), label + " faces");
                for (int k = 0; k < faces.size(); k++) {
                    Face expected = Golden.face(Json.asObject(faces.get(k)));
                    Face actual = got.faces.get(k);
                    for (int j = 0; j < 4; j++) {
                        assertEquals(expected.box[j], actual.box[j], 1e-5, label + " box");
                    }
                    for (int j = 0; j < expected.keypoints.length; j++) {
                        assertEquals(expected.keypoints[j], actual.keypoints[j], 1e-5, label + " keypoints");
                    }
                    assertEquals(expected.score, actual.score, 1e-5, label + " score");
                    assertEquals(expected.age, actual.age, 1e-3, label + " age");
                    assertEquals(expected.female, actual.female, 1e-5, label + " female");
                }
            }
        }
        assertEquals(ReuseConfig.POLICIES, plain, "the traces without a second look: one per policy, in order");
        assertTrue(looked > 0, "the traces with a second look look at a face at least once");
    }

    private static int[] ints(List<Object> values) {
        int[] out = new int[values.size()];
        for (int k = 0; k < out.length; k++) {
            out[k] = ((Double) values.get(k)).intValue();
        }
        return out;
    }
}
