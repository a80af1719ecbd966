// Per-CPU counters and busy marks: threads holding distinct CPU numbers add without a lock and the sums are
// exact once they are done; a waiter returns only after every busy section it may have missed has ended.
import Glibc
import Synchronization
import Testing
@testable import SwiommuBase

@Suite(.serialized) struct PerCPUTests {
    final class Job: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }

    final class Flags: Sendable {
        let entered = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
    }

    /// Start `n` threads running `body` (each takes its own CPU number at its first `ThreadCPU.current()`).
    func spawn(_ n: Int, _ body: @escaping @Sendable () -> Void) -> [pthread_t] {
        var threads: [pthread_t] = []
        for _ in 0..<n {
            var t = pthread_t()
            let r = pthread_create(&t, nil, { raw in
                Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue().body()
                return nil
            }, Unmanaged.passRetained(Job(body)).toOpaque())
            #expect(r == 0)
            threads.append(t)
        }
        return threads
    }

    @Test func sumsOfConcurrentAddsAreExact() throws {
        let c = try #require(PerCPUCounters())
        defer { c.deallocate() }
        let cpus = Mutex<Set<Int>>([])
        let flags = Flags()
        let threads = spawn(4) {
            let cpu = ThreadCPU.current()
            cpus.withLock { _ = $0.insert(cpu) }
            // All four run at once (a number goes back to the pool when its thread exits).
            flags.entered.add(1, ordering: .acquiringAndReleasing)
            while flags.entered.load(ordering: .acquiring) < 4 { sched_yield() }
            for k in 0..<100_000 {
                c.enter(cpu)
                c.add(1, to: 0, cpu: cpu)
                c.add(k & 7, to: PerCPUCounters.counters - 1, cpu: cpu)
                c.exit(cpu)
            }
        }
        for t in threads { pthread_join(t, nil) }
        // Four live threads held four distinct numbers, so no add was lost.
        #expect(cpus.withLock { $0.count } == 4)
        #expect(c.sum(0) == 400_000)
        #expect(c.sum(PerCPUCounters.counters - 1) == 4 * 12_500 * 28)
        #expect(c.sum(1) == 0)
        // The shared block (threads without a number, under the owner's lock) is summed too.
        c.add(5, to: 1, cpu: PerCPUCounters.shared)
        #expect(c.sum(1) == 5)
    }

    @Test func waitForIdleReturnsOnlyAfterABusySectionEnds() throws {
        let c = try #require(PerCPUCounters())
        defer { c.deallocate() }
        let flags = Flags()
        let threads = spawn(1) {
            let cpu = ThreadCPU.current()
            c.enter(cpu)
            flags.entered.store(1, ordering: .releasing)
            usleep(50_000)
            flags.finished.store(1, ordering: .releasing)
            c.exit(cpu)
        }
        while flags.entered.load(ordering: .acquiring) == 0 { sched_yield() }
        c.waitForIdle()
        #expect(flags.finished.load(ordering: .acquiring) == 1)
        for t in threads { pthread_join(t, nil) }
        // With nothing busy it returns at once.
        c.waitForIdle()
    }
}
