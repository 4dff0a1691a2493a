package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The frame-reuse scheduler replayed on the reference's golden traces (reuse_traces.json): every decision exactly. */
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
        List<Object> policies = Json.array(traces, "policies");
        assertEquals(ReuseConfig.POLICIES.size(), policies.size(), "one trace per policy");
        for (Object p : policies) {
            Map<String, Object> entry = Json.asObject(p);
            ReuseConfig config = ReuseConfig.fromJson(Json.obj(entry, "config"));
            FrameReuseScheduler scheduler = new FrameReuseScheduler(new FrameReuseScheduler.Detector() {
                @Override
                public List<Face> detect(RgbImage frame) {
                    return detections.get(current[0]);
                }
            }, config);
            List<Object> trace = Json.array(entry, "trace");
            assertEquals(frames.size(), trace.size());
            for (int i = 0; i < frames.size(); i++) {
                current[0] = i;
                FrameDecision got = scheduler.step(frames.get(i));
                Map<String, Object> want = Json.asObject(trace.get(i));
                String label = config.policy + " frame " + i;
                assertEquals((int) Json.number(want, "index"), got.index, label);
                assertEquals(Json.bool(want, "ran_model"), got.ranModel, label + " ran_model");
                assertEquals(Json.string(want, "reason"), got.reason, label + " reason");
                assertEquals(Json.number(want, "change"), got.change, 1e-5, label + " change");
                List<Object> motion = Json.array(want, "motion");
                assertArrayEquals(new int[] {((Double) motion.get(0)).intValue(), ((Double) motion.get(1)).intValue()},
                        got.motion, label + " motion");
                List<Object> ids = Json.array(want, "track_ids");
                int[] wantIds = new int[ids.size()];
                for (int k = 0; k < wantIds.length; k++) {
                    wantIds[k] = ((Double) ids.get(k)).intValue();
                }
                assertArrayEquals(wantIds, got.trackIds, label + " track ids");
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
    }
}
