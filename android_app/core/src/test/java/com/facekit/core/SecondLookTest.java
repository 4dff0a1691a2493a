package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The second look's geometry and rules on hand-made cases (the same as tests/test_second_look.py). */
class SecondLookTest {
    private static Face face(float[] box, double age, double female, double score) {
        return new Face(box, new float[12], score, age, female);
    }

    @Test
    void roundHalfUpIsNotBankersRounding() {
        int[] got = new int[5];
        double[] values = {0.5, 1.5, 2.5, -0.5, 2.49};
        for (int i = 0; i < values.length; i++) {
            got[i] = SecondLook.roundHalfUp(values[i]);
        }
        assertArrayEquals(new int[] {1, 2, 3, 0, 2}, got);
    }

    @Test
    void cropSquareIsCentredAndScaled() {
        SecondLook look = SecondLook.defaults();
        assertArrayEquals(new int[] {89, 44, 63}, look.cropSquare(new float[] {100, 50, 140, 100}));
        SecondLook twice = new SecondLook(0.6, 2.0, 4, 30);
        assertArrayEquals(new int[] {0, 11, 40}, twice.cropSquare(new float[] {10.2f, 20.7f, 30.2f, 40.7f}));
    }

    @Test
    void cutSquarePadsOutsideWithBlack() {
        byte[] grey = new byte[20 * 10 * 3];
        Arrays.fill(grey, (byte) 7);
        RgbImage image = new RgbImage(20, 10, grey);
        RgbImage crop = SecondLook.cutSquare(image, -3, 5, 8);
        assertEquals(8, crop.width);
        assertEquals(8, crop.height);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(y < 5 && x >= 3 ? 7 : 0, crop.at(x, y, 1), "pixel " + x + ", " + y);
            }
        }
        assertArrayEquals(new byte[4 * 4 * 3], SecondLook.cutSquare(image, 100, 100, 4).rgb);
    }

    @Test
    void onlySmallFacesAreLookedAtAgain() {
        SecondLook look = new SecondLook(0.4, 1.25, 4, 30);
        assertTrue(look.wants(face(new float[] {0, 0, 30, 30}, 30, 0.9, 0.9), 80, 100));
        assertFalse(look.wants(face(new float[] {0, 0, 45, 30}, 30, 0.9, 0.9), 80, 100));
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SecondLook(0.0, 1.25, 4, 30));
        assertThrows(IllegalArgumentException.class, () -> new SecondLook(0.6, 0.9, 4, 30));
        assertThrows(IllegalArgumentException.class, () -> new SecondLook(0.6, 1.25, -1, 30));
        assertThrows(IllegalArgumentException.class, () -> new SecondLook(0.6, 1.25, 4, 0));
    }

    @Test
    void lookAgainTakesTheCentreFaceOfTheCropAndKeepsTheBox() {
        RgbImage image = RgbImage.black(400, 400);
        List<Face> faces = Arrays.asList(face(new float[] {100, 100, 140, 140}, 20, 0.9, 0.9),
                face(new float[] {0, 0, 300, 300}, 25, 0.9, 0.9));
        final List<Integer> sides = new ArrayList<Integer>();
        List<Face> out = SecondLook.defaults().lookAgain(image, faces, crop -> {
            sides.add(crop.width);
            return Arrays.asList(face(new float[] {0, 0, 10, 10}, 70, 0.0, 0.9),
                    face(new float[] {20, 20, 30, 30}, 55, 0.1, 0.9));
        });
        assertEquals(Collections.singletonList(50), sides, "only the small face, side round(1.25 * 40)");
        assertEquals(55, out.get(0).age);
        assertEquals(0.1, out.get(0).female);
        assertArrayEquals(faces.get(0).box, out.get(0).box);
        assertSame(faces.get(1), out.get(1));
    }

    @Test
    void lookAgainKeepsTheFirstAnswerWhenTheCropHasNoFaceAndCapsTheRuns() {
        List<Face> faces = new ArrayList<Face>();
        for (int i = 0; i < 6; i++) {
            faces.add(face(new float[] {10 * i, 10, 10 * i + 20, 30}, 30, 0.9, 0.5 + i / 100.0));
        }
        final int[] runs = {0};
        List<Face> out = SecondLook.defaults().lookAgain(RgbImage.black(400, 400), faces, crop -> {
            runs[0]++;
            return Collections.<Face>emptyList();
        });
        assertEquals(4, runs[0]);
        assertEquals(faces, out);
        assertNull(SecondLook.defaults().lookAt(RgbImage.black(40, 40), faces.get(0),
                crop -> Collections.<Face>emptyList()));
        assertEquals(Arrays.asList(5, 4, 3, 2), planned(SecondLook.defaults().plan(faces, 400, 400)),
                "highest score first");
    }

    @Test
    void aTrackedFaceIsLookedAtWhenNewAndAfterTheRefreshAndKeepsTheAnswer() {
        RgbImage frame = RgbImage.black(64, 48);
        final Face first = face(new float[] {10, 10, 22, 22}, 20, 0.9, 0.9);
        final int[] looks = {0};
        FrameReuseScheduler.Look look = (f, seen) -> seen.withAttributes(50.0 + ++looks[0], 0.1);
        // a still frame: full runs on frames 0, 11 and 22 (max-reuse); due after 12 frames: looks on 0 and 22
        FrameReuseScheduler scheduler = new FrameReuseScheduler(f -> Collections.singletonList(first),
                ReuseConfig.defaults(ReuseConfig.TRACKING), new SecondLook(0.6, 1.25, 4, 12), look);
        for (int i = 0; i < 23; i++) {
            FrameDecision decision = scheduler.step(frame);
            assertEquals(i % 11 == 0, decision.ranModel, "frame " + i + " runs the model");
            assertArrayEquals(i == 0 || i == 22 ? new int[] {1} : new int[0], decision.looked, "frame " + i);
            assertEquals(i < 22 ? 51.0 : 52.0, decision.faces.get(0).age, "frame " + i + ": not smoothed");
            assertEquals(0.1, decision.faces.get(0).female);
        }
        FrameReuseScheduler everyFrame = new FrameReuseScheduler(f -> Collections.singletonList(first),
                ReuseConfig.defaults(ReuseConfig.EVERY_FRAME), SecondLook.defaults(), look);
        assertArrayEquals(new int[0], everyFrame.step(frame).looked, "only the tracking policy has tracks to look at");
        assertThrows(IllegalArgumentException.class, () -> new FrameReuseScheduler(f -> Collections.<Face>emptyList(),
                ReuseConfig.defaults(ReuseConfig.TRACKING), SecondLook.defaults(), null));
    }

    private static List<Integer> planned(List<SecondLook.Planned> looks) {
        List<Integer> out = new ArrayList<Integer>();
        for (SecondLook.Planned p : looks) {
            out.add(p.faceIndex);
        }
        return out;
    }
}
