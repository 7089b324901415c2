package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The {@link Q8Activations.Format#I16} layout byte for byte, and its rows built once per input. */
class Q8ActivationsTest {
    private static final int B = Q8Activations.I16_BYTES;

    /**
     * Three hand-checked blocks: a mixed block (amax 2, so x 32767 / 2 = 16383.5 x), an all-zero block
     * (d = 0, q = 0), and a block of the smallest subnormals, whose scale 32767 / amax overflows to
     * infinity and so is clamped to +-32767 (with d = 0).
     */
    @Test
    void sixteenBitBlocksByteForByte() {
        float[] x = new float[384];
        x[0] = 2f;
        x[1] = -1f;    // -16383.5 rounds to even: -16384
        x[4] = 0.25f;  // 4095.875 -> 4096
        x[5] = 0.5f;   // 8191.75 -> 8192
        x[40] = 1f;    // 16383.5 -> 16384
        x[127] = -2f;
        for (int j = 0; j < 128; j++) x[256 + j] = (j % 3 == 0 ? -1 : 1) * Float.MIN_VALUE;
        byte[] b = new byte[3 * B + 7];
        Arrays.fill(b, (byte) 0x55);
        Q8Activations.quantizeRow16(x, 0, 384, b, 0);

        // block 0: pairs (x[8k + i], x[8k + i + 4]) side by side
        short[] q = new short[128];
        q[0] = 32767;   // x0 at slot 0
        q[1] = 4096;    // x4 at slot 1
        q[2] = -16384;  // x1 at slot 2
        q[3] = 8192;    // x5 at slot 3
        q[40] = 16384;  // x40 = x[8 * 5 + 0] at slot 40
        q[127] = -32767; // x127 = x[8 * 15 + 7] at slot 127
        for (int i = 0; i < 128; i++) assertThat(Q8Activations.getShort(b, 2 * i)).as("block 0 slot %d", i).isEqualTo(q[i]);
        assertThat(Q8Activations.getFloat(b, 256)).isEqualTo(2f / 32767f);
        assertThat(new int[] {Q8Activations.getInt(b, 260), Q8Activations.getInt(b, 264), Q8Activations.getInt(b, 268), Q8Activations.getInt(b, 272)})
                .containsExactly(32767 - 16384 + 4096 + 8192, 16384, 0, -32767);
        for (int i = 276; i < B; i++) assertThat(b[i]).as("padding byte %d", i).isZero();

        // block 1: all zero
        for (int i = B; i < 2 * B; i++) assertThat(b[i]).as("zero block byte %d", i - B).isZero();

        // block 2: every q clamped to +-32767, d underflows to 0
        for (int j = 0; j < 128; j++) {
            assertThat(Q8Activations.getShort(b, 2 * B + 2 * Q8Activations.pairSlot(j))).as("block 2 input %d", j)
                    .isEqualTo((short) (j % 3 == 0 ? -32767 : 32767));
        }
        assertThat(Float.floatToRawIntBits(Q8Activations.getFloat(b, 2 * B + 256))).isZero();
        // 11, 11, 10 and 11 inputs of each 32 are negative
        assertThat(new int[] {Q8Activations.getInt(b, 2 * B + 260), Q8Activations.getInt(b, 2 * B + 264), Q8Activations.getInt(b, 2 * B + 268),
                Q8Activations.getInt(b, 2 * B + 272)}).containsExactly(10 * 32767, 10 * 32767, 12 * 32767, 10 * 32767);
        for (int i = 2 * B + 276; i < 3 * B; i++) assertThat(b[i]).as("padding byte %d", i - 2 * B).isZero();
        for (int i = 3 * B; i < b.length; i++) assertThat(b[i]).as("past the row").isEqualTo((byte) 0x55);
    }

    @Test
    void pairSlotsInterleaveInputsFourApart() {
        int[] slots = new int[16];
        for (int j = 0; j < 16; j++) slots[j] = Q8Activations.pairSlot(j);
        assertThat(slots).containsExactly(0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15);
    }

    /** Each row is rounded on its own, and gathered rows copy their source's bytes. */
    @Test
    void rowsAreRoundedAloneAndGatheredRowsCopyThem() {
        Random rnd = new Random(6);
        int cols = 256, T = 5;
        float[] x = new float[T * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * (1 + i / cols);
        Q8Activations all = new Q8Activations();
        all.set(x, T, cols);
        byte[] xq = all.blocks(Q8Activations.Format.I16, null);
        int rb = (int) Q8Activations.rowBytes(Q8Activations.Format.I16, cols);
        assertThat(rb).isEqualTo(2 * B);
        for (int t = 0; t < T; t++) {
            byte[] alone = new byte[rb];
            Q8Activations.quantizeRow16(x, t * cols, cols, alone, 0);
            assertThat(Arrays.copyOfRange(xq, t * rb, (t + 1) * rb)).as("row %d", t).isEqualTo(alone);
        }
        int[] index = {4, 1, 3};
        float[] g = new float[index.length * cols];
        for (int i = 0; i < index.length; i++) System.arraycopy(x, index[i] * cols, g, i * cols, cols);
        Q8Activations gathered = new Q8Activations();
        gathered.setGathered(g, index.length, cols, all, index, 0);
        byte[] gq = gathered.blocks(Q8Activations.Format.I16, null);
        for (int i = 0; i < index.length; i++) {
            assertThat(Arrays.copyOfRange(gq, i * rb, (i + 1) * rb)).as("gathered row %d", i)
                    .isEqualTo(Arrays.copyOfRange(xq, index[i] * rb, (index[i] + 1) * rb));
        }
    }
}
