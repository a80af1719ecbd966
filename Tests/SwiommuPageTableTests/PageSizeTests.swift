// The IOMMU core's page-size choice (iommu_pgsize) against a brute-force reference, and mapping whole ranges
// with it.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite struct PageSizeTests {
    /// By definition: the largest supported size that fits the length and the alignment of both addresses; then
    /// pages of it, one after another, until a place where a larger supported page is aligned for both addresses
    /// and fits what is left.
    static func reference(bitmap: UInt64, iova: UInt64, paddr: UInt64, size: UInt64) -> (UInt64, UInt64)? {
        var best: UInt64 = 0
        for bit in 0..<64 {
            let p = UInt64(1) << UInt64(bit)
            if bitmap & p != 0 && p <= size && iova % p == 0 && paddr % p == 0 { best = p }
        }
        guard best != 0 else { return nil }
        let larger = (0..<64).map { UInt64(1) << UInt64($0) }.filter { $0 > best && bitmap & $0 != 0 }
        var count: UInt64 = 0
        while (count + 1) * best <= size {
            let at = count * best
            if count > 0 && larger.contains(where: { (iova + at) % $0 == 0 && (paddr + at) % $0 == 0 && size - at >= $0 }) { break }
            count += 1
        }
        return (best, count)
    }

    @Test func chooserAgreesWithBruteForce() {
        let bitmaps: [UInt64] = [SZ_4K | SZ_2M | SZ_1G, SZ_16K | SZ_32M, SZ_64K | SZ_512M | (1 << 42),
                                 SZ_4K | SZ_64K | SZ_1M | SZ_16M, SZ_4K, SZ_16K, 0x1000 | 0x4000 | 0x10000 | 0x200000]
        var rng = Rng(0x9a6e)
        var checked = 0
        for round in 0..<8_000 {
            let bitmap = round % 8 == 7 ? (rng.next() & 0x0000_03ff_ffff_f000) | 0x1000 : bitmaps[round % bitmaps.count]
            // Addresses with random alignments (some sharing their offset within large pages, some not).
            let align = UInt64(1) << UInt64(12 + rng.below(20))
            let iova = rng.below(1 << 36) & ~(align - 1)
            let paddr = rng.below(2) == 0 ? (iova & (SZ_1G - 1)) | (rng.below(64) << 30)
                                          : rng.below(1 << 36) & ~((UInt64(1) << UInt64(12 + rng.below(20))) - 1)
            // Lengths up to 256 pages of the smallest size, so that the reference stays cheap.
            let smallest = UInt64(1) << UInt64(bitmap.trailingZeroBitCount)
            let size = (rng.below(256 * smallest) + 1) & ~0xfff
            guard size > 0 else { continue }
            let fast = PageSizeChoice.pick(bitmap: bitmap, iova: iova, paddr: paddr, size: size)
            let slow = Self.reference(bitmap: bitmap, iova: iova, paddr: paddr, size: size)
            #expect(fast?.pageSize == slow?.0 && fast?.count == slow?.1,
                    "bitmap \(Kernel.hex(bitmap)) iova \(Kernel.hex(iova)) paddr \(Kernel.hex(paddr)) size \(Kernel.hex(size))")
            checked += 1
        }
        #expect(checked > 7_000)
    }

    @Test func knownChoices() {
        // iova and paddr 2M-aligned, 4M: two 2M pages.
        #expect(PageSizeChoice.pick(bitmap: SZ_4K | SZ_2M | SZ_1G, iova: 0x20_0000, paddr: 0x4020_0000, size: 0x40_0000)! == (SZ_2M, 2))
        // 4K-aligned start, 2M long, sharing offsets: 4K pages up to the next 2M boundary, then a 2M page would fit
        // only if enough is left.
        #expect(PageSizeChoice.pick(bitmap: SZ_4K | SZ_2M, iova: 0x1f_f000, paddr: 0x3f_f000, size: 0x20_1000)! == (SZ_4K, 1))
        #expect(PageSizeChoice.pick(bitmap: SZ_4K | SZ_2M, iova: 0x1f_f000, paddr: 0x3f_f000, size: 0x20_0000)! == (SZ_4K, 512))
        // Offsets that differ within 2M: 4K pages all the way.
        #expect(PageSizeChoice.pick(bitmap: SZ_4K | SZ_2M, iova: 0x1000, paddr: 0x2000, size: 0x40_0000)! == (SZ_4K, 1024))
        // Nothing fits: the kernel BUG()s, swiommu refuses.
        #expect(PageSizeChoice.pick(bitmap: SZ_16K, iova: 0x1000, paddr: 0, size: 0x4000) == nil)
        #expect(PageSizeChoice.pick(bitmap: SZ_4K, iova: 0, paddr: 0, size: 0) == nil)
    }

    /// Map ranges as iommu_map() does (chunks of the chosen size and count), then check every page.
    @Test(arguments: [(ARM_64_LPAE_S1, SZ_4K | SZ_2M | SZ_1G), (ARM_V7S, SZ_4K | SZ_64K | SZ_1M | SZ_16M)])
    func mappingRangesWithTheChoice(fmt: io_pgtable_fmt, bitmap: UInt64) throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(fmt, pageSizes: bitmap, ias: 32, oas: 32, memory: memory))
        defer { t.close() }
        var rng = Rng(77)
        var next: UInt64 = 0
        for _ in 0..<20 {
            let size = (rng.below(64) + 1) * SZ_64K + rng.below(16) * SZ_4K
            let iova = next + rng.below(4) * SZ_4K
            let paddr = 0x8000_0000 + (iova & (SZ_16M - 1))
            var done: UInt64 = 0
            var chunks = 0
            while done < size {
                let (pageSize, count) = try #require(PageSizeChoice.pick(bitmap: bitmap, iova: iova + done, paddr: paddr + done,
                                                                          size: size - done))
                var mapped = 0
                #expect(t.map(iova + done, paddr + done, pageSize, count: Int(count), prot: R | W, mapped: &mapped) == 0)
                #expect(mapped > 0)
                done += UInt64(mapped)
                chunks += 1
            }
            #expect(done == size)
            for off in stride(from: 0, to: size, by: Int(SZ_4K)) {
                #expect(t.phys(iova + UInt64(off) + 0x10) == paddr + UInt64(off) + 0x10)
            }
            next = (iova + size + SZ_16M) & ~(SZ_16M - 1)
        }
    }
}
