// The gap tree's rarer paths, each against the reference: saturated gaps, reservations that lower a node with
// a saturated gap, and the fit summaries that keep size-aligned searches logarithmic.
import Testing
@testable import SwiommuIOVA

@Suite(.serialized) struct TreeTests {
    func domains(start: UInt64 = 1) throws -> (IOVADomain, ReferenceIOVA) {
        let d = try #require(IOVADomain(granule: 4096, startPfn: IOVAPFN(start), pageSize: 4096))
        return (d, ReferenceIOVA(granule: 4096, startPfn: start))
    }

    func same(_ d: IOVADomain, _ r: ReferenceIOVA) -> Bool {
        d.checkInvariants().isEmpty && d.ranges.map { ($0.lo.rawValue, $0.hi.rawValue) }.elementsEqual(r.ranges, by: ==)
    }

    @Test func reservingBelowANodeWithASaturatedGap() throws {
        let (d, r) = try domains()
        let top: UInt64 = (1 << 36) - 1
        // One node high up: the gap below it (from pfn 0) is saturated.
        #expect(d.allocate(size: 1, limit: IOVAPFN(top), sizeAligned: false)?.range.lo.rawValue == top)
        _ = r.allocIova(size: 1, limit: top, sizeAligned: false)
        // Lower it by a little (still saturated), then by almost all of it (exact again).
        for lo in [top - 10, 5] {
            let a = d.reserve(lo: IOVAPFN(lo), hi: IOVAPFN(top))
            let b = r.reserve(lo, top)
            #expect(a?.range.lo.rawValue == b?.lo)
            #expect(same(d, r))
        }
        // A huge request now fails in both, the same way.
        #expect(d.allocate(size: 1 << 21, limit: IOVAPFN(top), sizeAligned: true) == nil)
        #expect(r.allocIova(size: 1 << 21, limit: top, sizeAligned: true) == nil)
        #expect(d.max32AllocSize == r.max32)
        d.destroy()
    }

    @Test func hugeRequestsCheckSaturatedGapsExactly() throws {
        let (d, r) = try domains()
        let top: UInt64 = (1 << 36) - 1
        // Nodes 3 * 2^20 apart: every gap is saturated, and 2^21-aligned requests of 2^21 + 1 granules (aligned
        // to 2^22) fit only some of them.
        for i in 0..<40 {
            let lo = top - UInt64(i) * (3 << 20)
            _ = d.reserve(lo: IOVAPFN(lo), hi: IOVAPFN(lo))
            _ = r.reserve(lo, lo)
        }
        for _ in 0..<12 {
            let a = d.allocate(size: (1 << 21) + 1, limit: IOVAPFN(top), sizeAligned: true)?.range.lo.rawValue
            let b = r.allocIova(size: (1 << 21) + 1, limit: top, sizeAligned: true)?.lo
            #expect(a == b)
            #expect(same(d, r))
        }
        d.destroy()
    }

    /// Requests of 2 to 5 granules fit the first run (no gap skipped); 6 aligned to 8 skips every run.
    @Test func fitSummariesDecidePowersOfTwoExactly() throws {
        for (size, expectSkips) in [(UInt64(2), false), (4, false), (3, false), (5, false), (6, true)] {
            let (d, r) = try domains()
            let base: UInt64 = 1024
            _ = d.reserve(lo: IOVAPFN(16), hi: IOVAPFN(base + 6))
            _ = r.reserve(16, base + 6)
            // 200 free runs of 6 starting one below a multiple of 8: from the 8-aligned start they hold 5.
            for i in 0..<UInt64(200) {
                _ = d.reserve(lo: IOVAPFN(base + 16 * i + 13), hi: IOVAPFN(base + 16 * i + 22))
                _ = r.reserve(base + 16 * i + 13, base + 16 * i + 22)
            }
            _ = d.reserve(lo: IOVAPFN(base + 16 * 200 + 7), hi: IOVAPFN((1 << 20) - 1))
            _ = r.reserve(base + 16 * 200 + 7, (1 << 20) - 1)
            let before = d.misalignedGaps
            let a = d.allocate(size: size, limit: IOVAPFN((1 << 20) - 1), sizeAligned: true)?.range.lo.rawValue
            let b = r.allocIova(size: size, limit: (1 << 20) - 1, sizeAligned: true)?.lo
            #expect(a == b, "size \(size)")
            #expect((d.misalignedGaps - before > 0) == expectSkips, "size \(size): \(d.misalignedGaps - before)")
            #expect(same(d, r))
            d.destroy()
        }
    }
}
