package com.facekit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The decoder refuses NaN or infinite outputs with the reference's message. */
class FaceDecoderTest {
    private static final FaceDecoder DECODER = new FaceDecoder(
            new AnchorSpec(128, new int[] {8, 16, 16, 16}, 0.1484375, 0.75, 0.5, true), 128, new DecodeConfig(0.5f, 0.3f, 100f));

    private static float[] filled(int n, float value) {
        float[] out = new float[n];
        Arrays.fill(out, value);
        return out;
    }

    @Test
    void nanOrInfiniteOutputsAreRefused() {
        int n = DECODER.anchorCount();
        float[] scores = filled(n, -10f);
        assertEquals(0, DECODER.decode(filled(n * 16, 0f), scores, filled(n, 0.3f), filled(n, 0f)).size());
        scores[5] = Float.NaN;
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> DECODER.decode(filled(n * 16, 0f), scores, filled(n, 0.3f), filled(n, 0f)));
        assertEquals(FaceDecoder.NOT_FINITE, nan.getMessage());
        scores[5] = 10f; // a kept anchor with an infinite regressor
        float[] regressors = filled(n * 16, 0f);
        regressors[5 * 16 + 2] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalArgumentException.class, () -> DECODER.decode(regressors, scores, filled(n, 0.3f), filled(n, 0f)));
        assertEquals(1, DECODER.decode(filled(n * 16, 0f), scores, filled(n, 0.3f), filled(n, 0f)).size());
    }
}
