package io.chorus.engine.api;

/** Order of admission ({@code --scheduling-policy}). */
public enum SchedulingPolicy {
    /** First come, first served. */
    FCFS,
    /** Lowest {@link EngineRequest#priority()} first, then earliest arrival. */
    PRIORITY
}
