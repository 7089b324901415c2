package io.chorus.engine.sched;

import io.chorus.engine.api.SchedulingPolicy;
import io.chorus.engine.request.Sequence;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Sequences waiting for admission, head first. FCFS: arrival order, and a preempted sequence goes
 * back to the head. Priority: ordered by (priority, arrival), a preempted sequence re-enters at its
 * place (ahead of later arrivals of its priority). Engine loop thread only.
 */
final class WaitingQueue {
    private static final Comparator<Sequence> BY_PRIORITY =
            Comparator.comparingInt(Sequence::priority).thenComparingLong(Sequence::arrivalOrder);

    private final SchedulingPolicy policy;
    private final List<Sequence> items = new ArrayList<>();

    WaitingQueue(SchedulingPolicy policy) {
        this.policy = policy;
    }

    void add(Sequence s) {
        if (policy == SchedulingPolicy.FCFS) items.add(s);
        else insertSorted(s);
    }

    void addPreempted(Sequence s) {
        if (policy == SchedulingPolicy.FCFS) items.addFirst(s);
        else insertSorted(s);
    }

    private void insertSorted(Sequence s) {
        int i = 0;
        while (i < items.size() && BY_PRIORITY.compare(items.get(i), s) <= 0) i++;
        items.add(i, s);
    }

    Sequence peek() { return items.isEmpty() ? null : items.getFirst(); }

    Sequence poll() { return items.removeFirst(); }

    boolean remove(Sequence s) { return items.remove(s); }

    int size() { return items.size(); }

    boolean isEmpty() { return items.isEmpty(); }

    List<Sequence> view() { return List.copyOf(items); }
}
