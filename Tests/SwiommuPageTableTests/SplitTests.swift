// The Linux 6.6-6.12 behaviour, as an option: a partial unmap of a block splits it into a next-level table
// that maps the rest with the block's attributes (arm_lpae_split_blk_unmap, arm_v7s_split_cont,
// arm_v7s_split_blk_unmap).
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite(.serialized) struct SplitTests {
    @Test func lpaeSplitsBlocksLevelByLevel() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 39, oas: 40, memory: memory))
        defer { t.close() }
        t.table.splitBlocks = true
        flushes = FlushRecord()
        // 2M block R|W|CACHE: nG | AF | SH inner | AP[1] | AttrIndx 1 | 0b01 = 0xf45.
        #expect(t.map(0x20_0000, 0x4000_0000, SZ_2M, prot: R | W | CACHE) == 0)
        let tables = t.table.statistics.tables
        #expect(t.unmap(0x20_1000, SZ_4K) == SZ_4K)
        #expect(t.table.statistics.tables == tables + 1)
        // The new level-3 table keeps the block's attributes (bits [11:2], XN, DBM) as pages: 0xf44 | 0b11.
        let l2 = address(entry64(memory, t.cfg.pointee.arm_lpae_s1_cfg.ttbr, 0))
        let l3 = address(entry64(memory, l2, 1))
        #expect(entry64(memory, l2, 1) & 3 == 3)
        #expect(entry64(memory, l3, 0) == 0x4000_0f47 && entry64(memory, l3, 1) == 0 && entry64(memory, l3, 2) == 0x4000_2f47)
        #expect(entry64(memory, l3, 511) == 0x401f_ff47)
        #expect(t.phys(0x20_1000) == 0 && t.phys(0x20_2010) == 0x4000_2010)
        if case .failure(let f) = t.translate(0x20_1000) { #expect(f.kind == .translation && f.level == 3) } else { Issue.record("hole") }
        if case .success(let w) = t.translate(0x3f_f000) { #expect(w.phys == 0x401f_f000 && w.size == SZ_4K) } else { Issue.record("rest") }
        // Linux 6.6 invalidates the unmapped page with tlb_add_page, gather or not.
        #expect(flushes.pages.count == 1 && flushes.pages[0].iova == 0x20_1000)

        // Two pages at the end of a 2M block: both unmapped in one call.
        #expect(t.map(0x40_0000, 0x4020_0000, SZ_2M, prot: R | W) == 0)
        #expect(t.unmap(0x5f_e000, SZ_4K, count: 2) == 2 * SZ_4K)
        #expect(t.phys(0x5f_e000) == 0 && t.phys(0x5f_f000) == 0 && t.phys(0x5f_d000) == 0x403f_d000)

        // A 4K hole in a 1G block: a level-2 table of 2M blocks, then a level-3 table under the one holding the hole.
        #expect(t.map(SZ_1G, 0x8000_0000, SZ_1G, prot: R | W) == 0)
        let before = t.table.statistics.tables
        #expect(t.unmap(SZ_1G + SZ_2M + SZ_4K, SZ_4K) == SZ_4K)
        #expect(t.table.statistics.tables == before + 2)
        #expect(t.phys(SZ_1G + SZ_2M + SZ_4K) == 0)
        #expect(t.phys(SZ_1G + SZ_2M) == 0x8020_0000 && t.phys(SZ_1G + 3 * SZ_2M + 5) == 0x8060_0005)
        // A 2M hole in a 1G block: one table of 2M blocks.
        #expect(t.map(2 * SZ_1G, 0xc000_0000, SZ_1G, prot: R) == 0)
        #expect(t.unmap(2 * SZ_1G + SZ_2M, SZ_2M) == SZ_2M)
        #expect(t.phys(2 * SZ_1G + SZ_2M) == 0 && t.phys(2 * SZ_1G + 2 * SZ_2M) == 0xc040_0000)
        let l2b = address(entry64(memory, t.cfg.pointee.arm_lpae_s1_cfg.ttbr, 2))
        #expect(entry64(memory, l2b, 0) == 0xc000_0ec1 && entry64(memory, l2b, 1) == 0)
    }

    @Test func v7sSplitsLargePagesSectionsAndSupersections() throws {
        let memory = try makeMemory()
        IOPageTable.splitBlocksByDefault = true
        defer { IOPageTable.splitBlocksByDefault = false }
        let t = try #require(makeTable(ARM_V7S, pageSizes: SZ_4K | SZ_64K | SZ_1M | SZ_16M, ias: 32, oas: 32, memory: memory))
        defer { t.close() }
        #expect(t.table.splitBlocks)
        flushes = FlushRecord()
        let l1 = UInt64(t.cfg.pointee.arm_v7s_cfg.ttbr & ~0x3fff)

        // A 4K hole in a 64K large page: 16 small pages (arm_v7s_split_cont), one of them cleared.
        #expect(t.map(0x1_0000, 0x2001_0000, SZ_64K, prot: R | W) == 0)
        #expect(t.unmap(0x1_3000, SZ_4K) == SZ_4K)
        let l2 = UInt64(entry32(memory, l1, 0) & ~0x3ff)
        for i in 0x10..<0x20 {
            // Small-page form of the attributes: 0xc7 << 4 | 0b10.
            #expect(entry32(memory, l2, i) == (i == 0x13 ? 0 : UInt32(0x2000_0000 + i * 0x1000) | 0xc72), "entry \(i)")
        }
        #expect(flushes.walks.count == 1 && flushes.walks[0].size == Int(SZ_64K))
        #expect(t.phys(0x1_3000) == 0 && t.phys(0x1_4008) == 0x2001_4008)

        // A 4K hole in a 1M section: a level-2 table of 255 small pages (Linux 6.6 lost the section's address here;
        // swiommu keeps it).
        #expect(t.map(0x10_0000, 0x3000_0000, SZ_1M, prot: R | W | CACHE) == 0)
        #expect(t.unmap(0x10_5000, SZ_4K) == SZ_4K)
        let s2 = entry32(memory, l1, 1)
        #expect(s2 & 3 == 1)
        let table = UInt64(s2 & ~0x3ff)
        #expect(entry32(memory, table, 0) == 0x3000_0c7e && entry32(memory, table, 5) == 0)
        #expect(entry32(memory, table, 255) == 0x300f_fc7e)
        #expect(t.phys(0x10_5000) == 0 && t.phys(0x1f_f123) == 0x300f_f123)

        // A 1M hole in a 16M supersection: 16 sections, one cleared.
        #expect(t.map(SZ_16M, 0x4000_0000, SZ_16M, prot: R | W) == 0)
        #expect(t.unmap(SZ_16M + 2 * SZ_1M, SZ_1M) == SZ_1M)
        #expect(entry32(memory, l1, 18) == 0)
        #expect(entry32(memory, l1, 17) == 0x4013_1c02 && entry32(memory, l1, 31) == 0x40f3_1c02)
        #expect(t.phys(SZ_16M + 2 * SZ_1M) == 0 && t.phys(SZ_16M + 3 * SZ_1M + 1) == 0x4030_0001)
        // And a 4K hole in one of those sections.
        #expect(t.unmap(SZ_16M + 5 * SZ_1M + SZ_4K, SZ_4K) == SZ_4K)
        #expect(t.phys(SZ_16M + 5 * SZ_1M + SZ_4K) == 0 && t.phys(SZ_16M + 5 * SZ_1M) == 0x4050_0000)
        if case .success(let w) = t.translate(SZ_16M + 5 * SZ_1M + 2 * SZ_4K) { #expect(w.size == SZ_4K) } else { Issue.record("split walk") }
    }
}
