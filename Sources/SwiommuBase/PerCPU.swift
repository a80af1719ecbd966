// Counters kept per CPU number, and a busy mark per CPU number: what lets a hot path that many threads run on
// one object count and publish its work without a lock or a locked instruction, while a rare writer can still
// wait for every section in flight to end.
import Glibc
import CSwiommuGlue

/// One 64-byte block per CPU number (`ThreadCPU`) and a shared block for threads without one: word 0 the busy
/// mark, words 1-7 the counters. Only the thread holding a CPU number writes its block (a plain load and store,
/// no locked instruction); the shared block is written under a lock of the owner's. A sum reads every block, so
/// it is exact once the writers are done. Kernel: `struct percpu_counter` (read with `percpu_counter_sum`), and
/// the preemption-off section that a writer waits out (here `enter`/`exit` and `waitForIdle`).
public struct PerCPUCounters: @unchecked Sendable {
    /// Counters per block.
    public static let counters = 7
    /// The block of threads without a CPU number, written under the owner's lock.
    public static let shared = ThreadCPU.maxCPUs
    @usableFromInline static let wordsPerBlock = 8
    @usableFromInline let blocks: UnsafeMutablePointer<Int>
    /// `AsymmetricFence.expedited`, copied (the fast path reads it on every call).
    @usableFromInline let expedited: Bool

    /// Zeroed blocks; nil when the memory cannot be had.
    public init?() {
        var p: UnsafeMutableRawPointer? = nil
        let bytes = (ThreadCPU.maxCPUs + 1) * PerCPUCounters.wordsPerBlock * MemoryLayout<Int>.stride
        guard posix_memalign(&p, 64, bytes) == 0, let p else { return nil }
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        blocks = p.bindMemory(to: Int.self, capacity: bytes / MemoryLayout<Int>.stride)
        expedited = AsymmetricFence.expedited
    }

    public func deallocate() { free(blocks) }

    @inlinable @inline(__always) func word(_ cpu: Int, _ k: Int) -> UnsafeMutablePointer<Int> {
        blocks + (cpu &* PerCPUCounters.wordsPerBlock &+ k)
    }

    /// Add `n` to counter `k` (0 ..< `counters`) of `cpu`'s block: the caller holds CPU number `cpu`, or the
    /// owner's lock for the shared block.
    @inlinable @inline(__always) public func add(_ n: Int, to k: Int, cpu: Int) {
        let w = word(cpu, k &+ 1)
        swiommu_glue_atomic_store_long(w, swiommu_glue_atomic_load_long(w) &+ n)
    }

    /// Counter `k` summed over every block.
    public func sum(_ k: Int) -> Int {
        var s = 0
        for cpu in 0...PerCPUCounters.shared { s &+= swiommu_glue_atomic_load_long(word(cpu, k + 1)) }
        return s
    }

    /// Mark `cpu` (the caller's number) busy: a section that `waitForIdle` waits out, if it begins before the
    /// waiter's fence. Read what the waiter may have changed only after this.
    @inlinable @inline(__always) public func enter(_ cpu: Int) {
        swiommu_glue_atomic_store_long(word(cpu, 0), 1)
        AsymmetricFence.light(expedited: expedited)
    }

    /// End `cpu`'s busy section: a release store, which the waiter's acquire load pairs with.
    @inlinable @inline(__always) public func exit(_ cpu: Int) {
        swiommu_glue_atomic_store_release_long(word(cpu, 0), 0)
    }

    /// Wait until every busy section that may not have seen the caller's stores before this call has ended:
    /// the heavy side of `AsymmetricFence`, then a wait on each busy mark. Sections that begin after the fence
    /// see those stores. Kernel: `synchronize_rcu()` after unpublishing a pointer.
    public func waitForIdle() {
        AsymmetricFence.heavy()
        for cpu in 0..<PerCPUCounters.shared {
            while swiommu_glue_atomic_load_acquire_long(word(cpu, 0)) != 0 { sched_yield() }
        }
    }
}
