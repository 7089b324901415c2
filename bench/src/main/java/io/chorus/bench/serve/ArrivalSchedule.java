package io.chorus.bench.serve;

import java.util.SplittableRandom;

/**
 * When each request is sent, as vLLM schedules them: inter-arrival gaps drawn from a gamma
 * distribution with shape {@code burstiness} and mean {@code 1 / rate}. Shape 1 is the exponential
 * distribution (Poisson arrivals); below 1 requests come in bursts, above 1 more evenly.
 */
public final class ArrivalSchedule {
    private ArrivalSchedule() {}

    /** Send times in seconds from the start, one per request; all zero when the rate is infinite. */
    public static double[] offsetsSeconds(int n, double rate, double burstiness, long seed) {
        double[] at = new double[n];
        if (Double.isInfinite(rate)) return at;
        SplittableRandom rnd = new SplittableRandom(seed);
        double scale = 1.0 / (rate * burstiness); // mean of gamma(k, theta) is k * theta = 1 / rate
        double t = 0;
        for (int i = 0; i < n; i++) {
            t += gamma(rnd, burstiness) * scale;
            at[i] = t;
        }
        return at;
    }

    /** A gamma(shape, 1) sample by Marsaglia and Tsang's method; shapes below 1 use the boost gamma(k+1) * U^(1/k). */
    static double gamma(SplittableRandom rnd, double shape) {
        if (shape < 1) {
            double u = rnd.nextDouble();
            while (u == 0) u = rnd.nextDouble();
            return gamma(rnd, shape + 1) * Math.pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x, v;
            do {
                x = normal(rnd);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rnd.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
        }
    }

    private static double normal(SplittableRandom rnd) {
        // Box-Muller; one of the pair is enough here.
        double u1 = rnd.nextDouble();
        while (u1 == 0) u1 = rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
