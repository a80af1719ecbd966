// The fast allocator against the reference transcription of the kernel, over long random sequences: every
// returned address, the whole tree, the cached nodes and max32_alloc_size must agree after every call, and the
// allocator's invariants must hold after every call. SWIOMMU_IOVA_LONG=1 runs 20 times longer sequences.
import Glibc
import Testing
@testable import SwiommuBase
@testable import SwiommuIOVA

/// A small, fixed-seed generator (SplitMix64), so that every run draws the same sequence.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

struct Scenario: CustomTestStringConvertible, Sendable {
    let name: String
    let granule: UInt64
    let startPfn: UInt64
    /// Inclusive limits the calls pick from.
    let limits: [UInt64]
    let maxSize: UInt64
    let ops: Int
    let seed: UInt64
    let onlineCPUs: Int
    /// Share of calls going through alloc_iova_fast / free_iova_fast.
    let fastShare: Double
    /// Allocations kept live before frees become as frequent as allocations.
    var targetLive = 40
    var testDescription: String { name }

    static var scale: Int { getenv("SWIOMMU_IOVA_LONG") != nil ? 20 : 1 }

    static let all: [Scenario] = {
        let g4: UInt64 = 4096, g16: UInt64 = 16384, g64: UInt64 = 65536
        let d4: UInt64 = 1 << 20, d16: UInt64 = 1 << 18, d64: UInt64 = 1 << 16
        return [
            Scenario(name: "4K roomy, 32- and 48-bit limits", granule: g4, startPfn: 1,
                     limits: [d4 - 1, (1 << 36) - 1], maxSize: 300, ops: 2500, seed: 1, onlineCPUs: 8,
                     fastShare: 0.5),
            // d4 - 2600 is below start_pfn: a WARN, then the kernel's failing search and its side effects.
            Scenario(name: "4K nearly full below and across 4 GiB", granule: g4, startPfn: d4 - 2500,
                     limits: [d4 - 1, d4 - 1200, d4 + 1500, d4 - 2400, d4 - 2600], maxSize: 90, ops: 3000,
                     seed: 2, onlineCPUs: 2, fastShare: 0.5),
            Scenario(name: "16K nearly full, mostly fast", granule: g16, startPfn: d16 - 1800,
                     limits: [d16 - 1, d16 + 900, d16 - 700], maxSize: 64, ops: 3000, seed: 3, onlineCPUs: 1,
                     fastShare: 0.85),
            Scenario(name: "64K mixed limits", granule: g64, startPfn: 16,
                     limits: [d64 - 1, (1 << 32) - 1, 2000, d64 + 3000], maxSize: 200, ops: 2500, seed: 4,
                     onlineCPUs: 4, fastShare: 0.4),
            Scenario(name: "4K tiny space, rcache churn", granule: g4, startPfn: 5, limits: [700, 400, 1000],
                     maxSize: 40, ops: 3000, seed: 5, onlineCPUs: 2, fastShare: 0.9),
            Scenario(name: "64K nearly full above 4 GiB only", granule: g64, startPfn: d64 + 10,
                     limits: [d64 + 1800, d64 + 900], maxSize: 70, ops: 2500, seed: 6, onlineCPUs: 3,
                     fastShare: 0.6),
            Scenario(name: "4K 1500 live, deep tree", granule: g4, startPfn: 1,
                     limits: [d4 - 1, (1 << 36) - 1, 60000], maxSize: 64, ops: 4000, seed: 7, onlineCPUs: 2,
                     fastShare: 0.5, targetLive: 1500),
            Scenario(name: "4K 48-bit, sizes up to 2^22: saturated gaps", granule: g4, startPfn: 1,
                     limits: [(1 << 36) - 1, (1 << 26) - 1, d4 - 1], maxSize: 1 << 22, ops: 2500, seed: 10,
                     onlineCPUs: 2, fastShare: 0.3, targetLive: 200),
            Scenario(name: "16K 900 live, nearly full, fast", granule: g16, startPfn: d16 - 5000,
                     limits: [d16 - 1, d16 + 3000], maxSize: 32, ops: 4000, seed: 8, onlineCPUs: 1,
                     fastShare: 0.8, targetLive: 900),
        ]
    }()
}

/// Runs one scenario on both allocators, comparing after every call.
final class DifferentialHarness {
    enum Kind { case slow, fast, reserved }
    struct Live {
        var kind: Kind
        var refID: Int          // slow and reserved
        var handle: IOVAHandle? // slow and reserved
        var pfn: UInt64         // fast: the pfn returned
        var size: UInt64        // fast: the size asked for
    }

    let s: Scenario
    let fast: IOVADomain
    let ref: ReferenceIOVA
    var rng: SplitMix64
    var live: [Live] = []
    var counts: [String: Int] = [:]
    let cpuBase = 200

    init(_ s: Scenario) throws {
        self.s = s
        rng = SplitMix64(seed: s.seed)
        fast = try #require(IOVADomain(granule: s.granule, startPfn: IOVAPFN(s.startPfn), pageSize: 65536))
        #expect(fast.initRangeCaches() == nil)
        ThreadCPU.onlineCPUs = s.onlineCPUs
        #expect(ThreadCPU.set(cpuBase) == nil)
        ref = ReferenceIOVA(granule: s.granule, startPfn: s.startPfn, now: IOVAClock.now, onlineCPUs: s.onlineCPUs)
        ref.cpu = cpuBase
    }

    func finish() {
        fast.destroy()
        _ = ThreadCPU.set(-1)
        ThreadCPU.onlineCPUs = ThreadCPU.defaultOnlineCPUs
    }

    func count(_ k: String) { counts[k, default: 0] += 1 }

    func randomSize() -> UInt64 {
        let r = Double.random(in: 0..<1, using: &rng)
        if r < 0.7 { return UInt64.random(in: 1...8, using: &rng) }
        if r < 0.9 { return UInt64.random(in: 9...min(64, s.maxSize), using: &rng) }
        return UInt64.random(in: 1...s.maxSize, using: &rng)
    }

    func randomLimit() -> UInt64 { s.limits.randomElement(using: &rng)! }

    /// One random call on both sides; returns a description of a mismatch, or nil.
    func step(_ n: Int) -> String? {
        let r = Double.random(in: 0..<1, using: &rng)
        let freeBias = live.count > s.targetLive ? 0.45 : 0.2
        if r < 0.02 {
            let ms = UInt64.random(in: 0...260, using: &rng)
            IOVAClock.advance(by: ms)
            ref.advance(ms)
            count("clock")
        } else if r < 0.04 {
            let cpu = cpuBase + Int.random(in: 0..<3, using: &rng)
            if ThreadCPU.set(cpu) != nil { return "cannot switch to CPU \(cpu)" }
            ref.cpu = cpu
            count("cpu")
        } else if r < 0.06 {
            let pfn = UInt64.random(in: s.startPfn...(s.limits.max()! + 10), using: &rng)
            let a = fast.find(IOVAPFN(pfn))?.range
            let b = ref.find(pfn).map { ref.nodes[$0] }
            if a?.lo.rawValue != b?.lo || a?.hi.rawValue != b?.hi { return "find_iova(\(pfn)): \(String(describing: a)) vs \(String(describing: b))" }
            count("find")
        } else if r < 0.08 {
            // A reservation, possibly over alloc_iova and reserved nodes (never over alloc_iova_fast's).
            let top = s.limits.max()!
            let lo = UInt64.random(in: s.startPfn...top, using: &rng)
            let hi = lo + UInt64.random(in: 0...20, using: &rng)
            if ref.nodes.contains(where: { $0.fastOrigin && $0.lo <= hi && lo <= $0.hi }) { return nil }
            let a = fast.reserve(lo: IOVAPFN(lo), hi: IOVAPFN(hi))
            guard let b = ref.reserve(lo, hi), let a else { return "reserve_iova(\(lo), \(hi)) failed" }
            if a.range.lo.rawValue != b.lo || a.range.hi.rawValue != b.hi { return "reserve_iova(\(lo), \(hi)): \(a.range) vs [\(b.lo), \(b.hi)]" }
            if !live.contains(where: { $0.handle == a }) { live.append(Live(kind: .reserved, refID: b.id, handle: a, pfn: 0, size: 0)) }
            count("reserve")
        } else if r < 0.08 + freeBias && !live.isEmpty {
            let k = Int.random(in: 0..<live.count, using: &rng)
            let e = live.remove(at: k)
            switch e.kind {
            case .fast:
                fast.freeFast(pfn: IOVAPFN(e.pfn), size: e.size)
                ref.freeFast(pfn: e.pfn, size: e.size)
                count("free_iova_fast")
            case .slow, .reserved:
                if Bool.random(using: &rng) {
                    fast.free(e.handle!)
                    ref.remove(at: ref.index(of: e.refID))
                    count("__free_iova")
                } else {
                    let range = e.handle!.range
                    let pfn = UInt64.random(in: range.lo.rawValue...range.hi.rawValue, using: &rng)
                    fast.free(pfn: IOVAPFN(pfn))
                    ref.freeIova(pfn)
                    count("free_iova")
                }
            }
        } else if Double.random(in: 0..<1, using: &rng) < s.fastShare {
            let size = min(randomSize(), 40)
            let limit = randomLimit()
            let flush = Double.random(in: 0..<1, using: &rng) < 0.7
            let a = fast.allocateFast(size: size, limit: IOVAPFN(limit), flushRangeCache: flush)
            let b = ref.allocFast(size: size, limit: limit, flush: flush)
            if a != b { return "alloc_iova_fast(\(size), \(limit), \(flush)): \(a) vs \(b)" }
            if a != 0 { live.append(Live(kind: .fast, refID: 0, handle: nil, pfn: a, size: size)) } else { count("fast failed") }
            count("alloc_iova_fast")
        } else {
            let size = randomSize()
            let limit = randomLimit()
            let aligned = Bool.random(using: &rng)
            let a = fast.allocate(size: size, limit: IOVAPFN(limit), sizeAligned: aligned)
            let b = ref.allocIova(size: size, limit: limit, sizeAligned: aligned)
            if a?.range.lo.rawValue != b?.lo || a?.range.hi.rawValue != b?.hi {
                return "alloc_iova(\(size), \(limit), \(aligned)): \(String(describing: a?.range)) vs \(String(describing: b.map { ($0.lo, $0.hi) }))"
            }
            if let a, let b { live.append(Live(kind: .slow, refID: b.id, handle: a, pfn: 0, size: 0)) } else { count("slow failed") }
            count("alloc_iova")
        }
        return compare(n)
    }

    func compare(_ n: Int) -> String? {
        let problems = fast.checkInvariants()
        if !problems.isEmpty { return "invariants: \(problems)" }
        let a = fast.ranges.map { ($0.lo.rawValue, $0.hi.rawValue) }
        let b = ref.ranges
        if a.count != b.count || zip(a, b).contains(where: { $0 != $1 }) {
            return "trees differ: \(a.count) vs \(b.count) nodes"
        }
        let c = fast.cachedNodes
        if c.cached.rawValue != ref.cachedLo || c.cached32.rawValue != ref.cached32Lo {
            return "cached nodes \(c) vs (\(ref.cachedLo), \(ref.cached32Lo))"
        }
        if fast.max32AllocSize != ref.max32 { return "max32_alloc_size \(fast.max32AllocSize) vs \(ref.max32)" }
        if n % 16 == 0 && fast.statistics.cached != ref.cachedEntries {
            return "cached ranges \(fast.statistics.cached) vs \(ref.cachedEntries)"
        }
        return nil
    }

    func run() -> String? {
        for n in 0..<(s.ops * Scenario.scale) {
            if let m = step(n) { return "\(s.name), call \(n): \(m)" }
        }
        // Drain: free everything, flush, and the two must end empty and equal.
        for e in live {
            switch e.kind {
            case .fast:
                fast.freeFast(pfn: IOVAPFN(e.pfn), size: e.size)
                ref.freeFast(pfn: e.pfn, size: e.size)
            case .slow, .reserved:
                fast.free(e.handle!)
                ref.remove(at: ref.index(of: e.refID))
            }
        }
        live = []
        fast.flushRangeCaches()
        ref.flushAll()
        if let m = compare(0) { return "\(s.name), after the drain: \(m)" }
        if fast.allocationCount != 0 { return "\(s.name): \(fast.allocationCount) allocations left" }
        return nil
    }
}

@Suite(.serialized) struct DifferentialTests {
    @Test(arguments: Scenario.all)
    func fastAllocatorMatchesTheKernel(_ s: Scenario) throws {
        let h = try DifferentialHarness(s)
        defer { h.finish() }
        let mismatch = h.run()
        #expect(mismatch == nil, "\(mismatch ?? "")")
        // The sequence must have exercised what it is meant to.
        #expect(h.counts["alloc_iova", default: 0] > 0 && h.counts["alloc_iova_fast", default: 0] > 0)
        #expect(h.ref.warnings == 0)
    }

    /// Magazines fill, spill into the depot, and the depot is trimmed on the clock, as in the kernel.
    @Test func depotFillsAndTrimsAsTheKernel() throws {
        let s = Scenario(name: "depot", granule: 4096, startPfn: 1, limits: [(1 << 20) - 1], maxSize: 32, ops: 0,
                         seed: 9, onlineCPUs: 2, fastShare: 1)
        let h = try DifferentialHarness(s)
        defer { h.finish() }
        for round in 0..<3 {
            for size: UInt64 in [1, 2, 3, 16] {
                var pfns: [UInt64] = []
                for _ in 0..<(700 + 100 * round) {
                    let a = h.fast.allocateFast(size: size, limit: IOVAPFN((1 << 20) - 1), flushRangeCache: true)
                    let b = h.ref.allocFast(size: size, limit: (1 << 20) - 1, flush: true)
                    #expect(a == b)
                    pfns.append(a)
                }
                for pfn in pfns.shuffled(using: &h.rng) {
                    h.fast.freeFast(pfn: IOVAPFN(pfn), size: size)
                    h.ref.freeFast(pfn: pfn, size: size)
                }
                #expect(h.compare(0) == nil)
            }
            #expect(h.fast.statistics.depotMagazines == h.ref.depot.reduce(0) { $0 + $1.count })
            #expect(h.fast.statistics.depotMagazines > 8)
            for _ in 0..<12 {
                IOVAClock.advance(by: 45)
                h.ref.advance(45)
                #expect(h.compare(0) == nil)
                #expect(h.fast.statistics.depotMagazines == h.ref.depot.reduce(0) { $0 + $1.count })
            }
            // Trimmed down to num_online_cpus() magazines per size class.
            #expect(h.ref.depot.allSatisfy { $0.count <= 2 })
        }
    }

    /// Nearly full spaces must actually fail, retry and flush.
    @Test func nearlyFullScenariosFail() throws {
        let h = try DifferentialHarness(Scenario.all[1])
        defer { h.finish() }
        #expect(h.run() == nil)
        #expect(h.counts["slow failed", default: 0] > 10)
        #expect(h.counts["fast failed", default: 0] > 10)
    }
}
