package io.chorus.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class HeapSegmentsTest {
    @Test
    void oneArrayGetsTheSameSegmentOverItsOwnMemory() {
        float[] a = new float[10];
        MemorySegment s = HeapSegments.of(a);
        assertThat(HeapSegments.of(a)).isSameAs(s);
        assertThat(s.byteSize()).isEqualTo(40);
        s.setAtIndex(ValueLayout.JAVA_FLOAT, 3, 2.5f);
        assertThat(a[3]).isEqualTo(2.5f);
    }

    @Test
    void distinctArraysNeverShareASegmentEvenWhenTheyCollideInTheTable() {
        float[][] arrays = new float[500][];
        MemorySegment[] segs = new MemorySegment[arrays.length];
        for (int i = 0; i < arrays.length; i++) {
            arrays[i] = new float[i + 1];
            segs[i] = HeapSegments.of(arrays[i]);
        }
        for (int i = 0; i < arrays.length; i++) {
            MemorySegment s = HeapSegments.of(arrays[i]);
            assertThat(s.byteSize()).isEqualTo(4L * (i + 1));
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
            assertThat(arrays[i][i]).isEqualTo((float) i);
        }
    }
}
