// iommu_pgsize: the core's split of a range into hardware page sizes, checked against worked cases and a
// brute-force reading of the kernel's rule.
import Testing
@testable import SwiommuIOMMU

@Suite struct PageSizeTests {
    let lpae4k = PageSizeBitmap(rawValue: 0x1000 | 0x20_0000 | 0x4000_0000)

    /// Split a whole range the way iommu_map's loop does.
    func split(_ bitmap: PageSizeBitmap, iova: UInt64, paddr: UInt64, size: UInt64) -> [PageSizeBitmap.Step] {
        var steps: [PageSizeBitmap.Step] = []
        var (i, p, left) = (iova, paddr, size)
        while left > 0, let s = bitmap.step(iova: i, paddr: p, size: left) {
            steps.append(s)
            i += s.size * s.count
            p += s.size * s.count
            left -= s.size * s.count
        }
        return steps
    }

    @Test func stopsAtTheNextBlockBoundary() {
        // 4K pages up to the 2M boundary, then a 2M block, then 4K pages.
        #expect(split(lpae4k, iova: 0x1f_f000, paddr: 0x801f_f000, size: 0x20_2000) == [
            .init(size: 0x1000, count: 1), .init(size: 0x20_0000, count: 1), .init(size: 0x1000, count: 1)])
    }

    @Test func differentOffsetsNeverUseBlocks() {
        #expect(split(lpae4k, iova: 0x20_0000, paddr: 0x8020_1000, size: 0x40_0000) == [.init(size: 0x1000, count: 0x400)])
    }

    @Test func aGigabyteBlockWhenEverythingLinesUp() {
        #expect(split(lpae4k, iova: 0x4000_0000, paddr: 0x4000_0000, size: 0x4020_0000) == [
            .init(size: 0x4000_0000, count: 1), .init(size: 0x20_0000, count: 1)])
    }

    @Test func sixteenKDART() {
        let dart = PageSizeBitmap(rawValue: 0x4000)
        #expect(dart.minimum == 0x4000)
        #expect(split(dart, iova: 0x10000, paddr: 0x9000_0000, size: 0x10000) == [.init(size: 0x4000, count: 4)])
        #expect(dart.step(iova: 0x1000, paddr: 0, size: 0x4000) == nil)   // misaligned: callers refuse first
    }

    @Test func agreesWithBruteForce() {
        // The rule: at each step the largest supported size that fits the remaining length and the
        // alignment of both addresses; and a run of smaller pages ends where a larger page could start.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let iova = UInt64.random(in: 0..<(1 << 32), using: &rng) & ~0xfff
            let delta = [UInt64(0), 0x1000, 0x20_0000, 0x1f_f000][Int.random(in: 0..<4, using: &rng)]
            let paddr = (iova &+ delta) & 0xffff_ffff_f000
            let size = UInt64.random(in: 1...0x300, using: &rng) << 12
            var (i, p, left) = (iova, paddr, size)
            for s in split(lpae4k, iova: iova, paddr: paddr, size: size) {
                let fitting = [UInt64(0x4000_0000), 0x20_0000, 0x1000].first {
                    $0 <= left && (i | p) & ($0 - 1) == 0
                }
                #expect(s.size == fitting)
                i += s.size * s.count
                p += s.size * s.count
                left -= s.size * s.count
                if left > 0, s.size < 0x4000_0000 {
                    // After a run of small pages, the next step may not be smaller than this one when
                    // the addresses now line up for a larger page.
                    let larger = [UInt64(0x20_0000), 0x4000_0000].filter { $0 > s.size && $0 <= left && (i | p) & ($0 - 1) == 0 }
                    if let l = larger.last { #expect(split(lpae4k, iova: i, paddr: p, size: left).first!.size >= min(l, 0x20_0000)) }
                }
            }
            #expect(left == 0)
        }
    }
}
