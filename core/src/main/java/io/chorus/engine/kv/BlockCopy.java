package io.chorus.engine.kv;

/** Copy the K/V of block {@code src} into block {@code dst} before the step's forward pass (copy-on-write). */
public record BlockCopy(int src, int dst) {}
