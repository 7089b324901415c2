/** JMH benchmarks of the kernels and tokenizers; run with scripts/jmh. */
package io.chorus.bench.jmh;
