// Several threads allocating and freeing on one domain at once, through the rcaches (no shared lock) and the
// tree, while another thread flushes and trims: no range is ever handed to two owners, and the domain is
// consistent afterwards.
import Glibc
import Synchronization
import Testing
@testable import SwiommuIOVA
import SwiommuBase

/// One atomic owner word per pfn: 0 free, else the owning thread + 1.
final class Occupancy: @unchecked Sendable {
    let words: UnsafeMutablePointer<Atomic<Int>>
    let count: Int
    init(_ count: Int) {
        self.count = count
        words = .allocate(capacity: count)
        for i in 0..<count { (words + i).initialize(to: Atomic(0)) }
    }
    deinit { words.deallocate() }

    /// Claim [lo, lo + size): false if any granule was owned.
    func claim(_ lo: UInt64, _ size: UInt64, by owner: Int) -> Bool {
        for p in lo..<(lo + size) {
            let (ok, _) = words[Int(p)].compareExchange(expected: 0, desired: owner, ordering: .relaxed)
            if !ok { return false }
        }
        return true
    }

    func release(_ lo: UInt64, _ size: UInt64) {
        for p in lo..<(lo + size) { words[Int(p)].store(0, ordering: .relaxed) }
    }
}

/// Run `body(i)` on `n` new threads and wait for them.
func runThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(_ body: @escaping @Sendable (Int) -> Void, _ index: Int) { self.body = body; self.index = index }
    }
    var threads: [pthread_t] = []
    for i in 0..<n {
        var t = pthread_t()
        let box = Unmanaged.passRetained(Box(body, i)).toOpaque()
        pthread_create(&t, nil, { raw in
            let b = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            b.body(b.index)
            return nil
        }, box)
        threads.append(t)
    }
    for t in threads { pthread_join(t, nil) }
}

/// ThreadSanitizer makes every call tens of times slower: under `make swift-tsan` (which sets SWIOMMU_TSAN) the
/// long thread test runs a quarter of its iterations, plenty for the race detection.
let underTSan = getenv("SWIOMMU_TSAN") != nil

@Suite(.serialized) struct ThreadTests {
    @Test func concurrentFastAndSlowCallsNeverOverlap() throws {
        let limit: UInt64 = (1 << 15) - 1
        let d = try #require(IOVADomain(granule: 4096, startPfn: IOVAPFN(1), pageSize: 4096))
        #expect(d.initRangeCaches() == nil)
        let occupancy = Occupancy(Int(limit) + 1)
        let overlaps = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let workers = 4
        let iterations = underTSan ? 10000 : 40000
        runThreads(workers + 1) { t in
            var rng = SplitMix64(seed: UInt64(100 + t))
            if t == workers {
                // The housekeeper: depot trims on the clock, and flushes through large allocations that rarely fit.
                while done.load(ordering: .relaxed) < workers {
                    IOVAClock.advance(by: 50)
                    let pfn = d.allocateFast(size: 1 << 12, limit: IOVAPFN(limit), flushRangeCache: true)
                    if pfn != 0 {
                        if !occupancy.claim(pfn, 1 << 12, by: t + 1) { overlaps.add(1, ordering: .relaxed) }
                        occupancy.release(pfn, 1 << 12)
                        d.freeFast(pfn: IOVAPFN(pfn), size: 1 << 12)
                    }
                    sched_yield()
                }
                return
            }
            // (first pfn, size asked, size granted, handle for alloc_iova)
            var live: [(pfn: UInt64, size: UInt64, granted: UInt64, handle: IOVAHandle?)] = []
            func free(_ e: (pfn: UInt64, size: UInt64, granted: UInt64, handle: IOVAHandle?)) {
                occupancy.release(e.pfn, e.granted)
                if let h = e.handle { d.free(h) } else { d.freeFast(pfn: IOVAPFN(e.pfn), size: e.size) }
            }
            for _ in 0..<iterations {
                if live.count > 60 || (live.count > 0 && Bool.random(using: &rng)) {
                    free(live.remove(at: Int.random(in: 0..<live.count, using: &rng)))
                } else if t == 0 && Int.random(in: 0..<4, using: &rng) == 0 {
                    let size = UInt64.random(in: 1...64, using: &rng)
                    if let h = d.allocate(size: size, limit: IOVAPFN(limit), sizeAligned: Bool.random(using: &rng)) {
                        if !occupancy.claim(h.range.lo.rawValue, size, by: t + 1) { overlaps.add(1, ordering: .relaxed) }
                        live.append((h.range.lo.rawValue, size, size, h))
                    }
                } else {
                    let size = UInt64.random(in: 1...40, using: &rng)
                    let pfn = d.allocateFast(size: size, limit: IOVAPFN(limit), flushRangeCache: Bool.random(using: &rng))
                    if pfn != 0 {
                        let granted = size < 32 ? Log2.roundUpPowerOfTwo(size) : size
                        if !occupancy.claim(pfn, granted, by: t + 1) { overlaps.add(1, ordering: .relaxed) }
                        live.append((pfn, size, granted, nil))
                    }
                }
            }
            for e in live { free(e) }
            done.add(1, ordering: .relaxed)
        }
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(d.checkInvariants() == [])
        d.flushRangeCaches()
        #expect(d.allocationCount == 0)
        #expect(d.checkInvariants() == [])
        d.destroy()
    }

    /// A drainer empties every slot (flush_rcache) again and again, and reads the statistics (which count the
    /// magazines' ranges), while the owners allocate and free through them: what it reads of a magazine is what
    /// the owner put there (the owner's exit and the drainer's give-back order the magazine's contents, which
    /// ThreadSanitizer checks; a magazine an owner swaps or frees is never read), no range is lost or handed out
    /// twice, and the domain is empty at the end.
    @Test func flushesWhileOwnersUseTheirSlots() throws {
        let limit: UInt64 = (1 << 16) - 1
        let d = try #require(IOVADomain(granule: 4096, startPfn: IOVAPFN(1), pageSize: 4096))
        #expect(d.initRangeCaches() == nil)
        let occupancy = Occupancy(Int(limit) + 1)
        let overlaps = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let flushes = Atomic<Int>(0)
        let workers = 3
        runThreads(workers + 1) { t in
            if t == workers {
                while done.load(ordering: .relaxed) < workers {
                    d.flushRangeCaches()
                    flushes.add(1, ordering: .relaxed)
                    let s = d.statistics
                    if s.cached > s.allocations { overlaps.add(1, ordering: .relaxed) }
                    sched_yield()
                }
                return
            }
            var rng = SplitMix64(seed: UInt64(7 + t))
            var live: [(pfn: UInt64, size: UInt64)] = []
            for _ in 0..<6000 {
                if live.count > 40 || (live.count > 0 && Bool.random(using: &rng)) {
                    let e = live.remove(at: Int.random(in: 0..<live.count, using: &rng))
                    occupancy.release(e.pfn, e.size)
                    d.freeFast(pfn: IOVAPFN(e.pfn), size: e.size)
                } else {
                    let size = UInt64(1) << UInt64.random(in: 0...5, using: &rng)
                    let pfn = d.allocateFast(size: size, limit: IOVAPFN(limit), flushRangeCache: false)
                    if pfn != 0 {
                        if !occupancy.claim(pfn, size, by: t + 1) { overlaps.add(1, ordering: .relaxed) }
                        live.append((pfn, size))
                    }
                }
            }
            for e in live {
                occupancy.release(e.pfn, e.size)
                d.freeFast(pfn: IOVAPFN(e.pfn), size: e.size)
            }
            done.add(1, ordering: .relaxed)
        }
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(flushes.load(ordering: .relaxed) > 0)
        #expect(d.checkInvariants() == [])
        d.flushRangeCaches()
        #expect(d.allocationCount == 0)
        d.destroy()
    }

    /// Threads get distinct CPU numbers, give them back when they exit, and can claim a free one.
    @Test func threadsCountAsDistinctCPUs() {
        let seen = Mutex<[Int]>([])
        let arrived = Atomic<Int>(0)
        runThreads(6) { _ in
            let cpu = ThreadCPU.current()
            seen.withLock { $0.append(cpu) }
            // Stay alive until all have taken a number.
            arrived.add(1, ordering: .relaxed)
            while arrived.load(ordering: .relaxed) < 6 { sched_yield() }
        }
        let cpus = seen.withLock { $0 }
        #expect(Set(cpus).count == 6)
        #expect(cpus.allSatisfy { $0 >= 0 })
        // Their numbers are free again: another thread can claim each.
        let claimed = Mutex<Int>(0)
        runThreads(1) { _ in
            for c in cpus where ThreadCPU.set(c) == nil { claimed.withLock { $0 += 1 } }
        }
        #expect(claimed.withLock { $0 } == 6)
        // A number held by a live thread is busy.
        let mine = ThreadCPU.current()
        runThreads(1) { _ in
            #expect(ThreadCPU.set(mine) == .busy)
        }
    }

    /// The number the fast paths read (a per-thread copy) follows every change `set(_:)` makes.
    @Test func theFastPathSeesEveryChangeOfNumber() {
        runThreads(1) { _ in
            let first = ThreadCPU.current()
            #expect(ThreadCPU.set(200) == nil)
            #expect(ThreadCPU.current() == 200)
            #expect(ThreadCPU.set(201) == nil)
            #expect(ThreadCPU.current() == 201)
            // The lowest free number again: the one this thread gave up.
            #expect(ThreadCPU.set(-1) == nil)
            #expect(ThreadCPU.current() == first)
        }
        // Its number went back at exit: another thread can claim it.
        runThreads(1) { _ in
            #expect(ThreadCPU.set(201) == nil)
            #expect(ThreadCPU.current() == 201)
        }
    }

    /// A thread's exit is its CPU going offline: the ranges its magazines held go back to the tree (kernel:
    /// iova_cpuhp_dead) and its slot is freed; the domain stays consistent and the CPU number is free again.
    @Test func anExitingThreadGivesItsCachedRangesBack() throws {
        let d = try #require(IOVADomain(granule: 4096, startPfn: IOVAPFN(1), pageSize: 4096))
        #expect(d.initRangeCaches() == nil)
        defer { d.destroy() }
        final class Counts: @unchecked Sendable { var cachedBeforeExit = 0 }
        let counts = Counts()
        runThreads(1) { _ in
            var pfns: [UInt64] = []
            for size: UInt64 in [1, 2, 4, 8] {
                for _ in 0..<50 {
                    pfns.append(d.allocateFast(size: size, limit: IOVAPFN((1 << 20) - 1), flushRangeCache: true))
                }
                for p in pfns { d.freeFast(pfn: IOVAPFN(p), size: size) }
                pfns = []
            }
            counts.cachedBeforeExit = d.statistics.cached
        }
        #expect(counts.cachedBeforeExit == 200)
        #expect(d.statistics.cached == 0)
        #expect(d.allocationCount == 0)
        #expect(d.checkInvariants().isEmpty)
    }
}
