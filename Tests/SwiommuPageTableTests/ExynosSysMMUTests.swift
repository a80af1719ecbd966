// The Exynos SysMMU table against exynos-iommu.c: golden descriptors from the driver's macros, sections, large
// and small pages, the shared zero LV2 table and lv2entcnt, v5's shifted addresses, the walker against
// iova_to_phys over random histories, bad input, and no leaks.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

/// A driver (zero table) and one domain; `close()` frees both and checks nothing leaked.
struct ExynosFixture {
    let memory: SimulatedMemory
    let driver: ExynosSysMMUDriver
    let table: ExynosSysMMUTable

    init(version: Int, coherent: Bool = false) throws {
        memory = try makeMemory()
        driver = try ExynosSysMMUDriver(memory: memory, majorVersion: version, coherent: coherent)
        table = try driver.makeDomain()
    }

    func translate(_ iova: UInt64, _ access: WalkAccess = .read) -> Result<WalkTranslation, WalkFault> {
        PageTableWalker.translateExynosSysMMU(memory: memory, ptBase: table.ptBaseRegister, majorVersion: driver.majorVersion,
                                              coherent: false, iova: iova, access: access)
    }

    /// The LV2 entry for `iova` as the CPU sees it (the LV1 entry must link a table).
    func lv2(_ iova: UInt64) -> UInt32 {
        let link = table.lv1Entry(iova)
        let base = UInt64(link & 0xffff_ffc0) << ExynosSysMMU.entryShift(majorVersion: driver.majorVersion)
        return entry32(memory, base, Int((iova >> 12) & 0xff))
    }

    func close(sourceLocation: SourceLocation = #_sourceLocation) {
        table.destroy()
        #expect(driver.close(), sourceLocation: sourceLocation)
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0, "tables leaked",
                sourceLocation: sourceLocation)
        #expect(memory.liveAllocations().isEmpty, sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct ExynosSysMMUTests {
    // MARK: Golden descriptors (exynos-iommu.c, PG_ENT_SHIFT 0 before v5)

    @Test func goldenDescriptorsBeforeV5() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        // mk_lv1ent_sect: pa | SYSMMU_LV1_PROT[READ|WRITE] (1 << 10) | 2.
        try f.table.map(iova: 0x1000_0000, paddr: 0x4560_0000, size: SZ_1M, prot: R | W)
        #expect(f.table.lv1Entry(0x1000_0000) == 0x4560_0402)
        // SYSMMU_LV1_PROT[READ] = (1 << 15) | (1 << 10): read-only.
        try f.table.map(iova: 0x1010_0000, paddr: 0x4570_0000, size: SZ_1M, prot: R)
        #expect(f.table.lv1Entry(0x1010_0000) == 0x4570_8402)
        // IOMMU_WRITE alone is "not supported, use read/write"; IOMMU_CACHE and the rest are dropped.
        try f.table.map(iova: 0x1020_0000, paddr: 0x4580_0000, size: SZ_1M, prot: W | CACHE | NOEXEC | PRIV)
        #expect(f.table.lv1Entry(0x1020_0000) == 0x4580_0402)
        // No access: 0.
        try f.table.map(iova: 0x1030_0000, paddr: 0x4590_0000, size: SZ_1M, prot: 0)
        #expect(f.table.lv1Entry(0x1030_0000) == 0x4590_0002)
        // mk_lv2ent_spage: pa | SYSMMU_LV2_PROT[READ] ((1 << 9) | (1 << 4)) | 2.
        try f.table.map(iova: 0x2000_3000, paddr: 0x8765_4000, size: SZ_4K, prot: R)
        #expect(f.lv2(0x2000_3000) == 0x8765_4212)
        try f.table.map(iova: 0x2000_4000, paddr: 0x8765_5000, size: SZ_4K, prot: R | W)
        #expect(f.lv2(0x2000_4000) == 0x8765_5012)
        // mk_lv2ent_lpage: pa | (1 << 4) | 1, in 16 consecutive entries.
        try f.table.map(iova: 0x2001_0000, paddr: 0x1234_0000, size: SZ_64K, prot: R | W)
        for i in 0..<16 { #expect(f.lv2(0x2001_0000 + UInt64(i) * SZ_4K) == 0x1234_0011) }
        // mk_lv1ent_page: the level-2 table's address | 1, 1 KiB aligned.
        let link = f.table.lv1Entry(0x2000_0000)
        #expect(link & 3 == 1 && link & 0x3fc == 0 && link != f.driver.zeroLink)
        // iova_to_phys: section_phys + offset, lpage_phys + offset, spage_phys + offset.
        #expect(f.table.iovaToPhys(0x1000_0000 + 0x12345) == 0x4561_2345)
        #expect(f.table.iovaToPhys(0x2000_3abc) == 0x8765_4abc)
        #expect(f.table.iovaToPhys(0x2001_fffc) == 0x1234_fffc)
        #expect(f.table.iovaToPhys(0x2000_5000) == 0)
        #expect(f.table.iovaToPhys(0x3000_0000) == 0)
        // The base register holds the LV1 address itself before v5.
        #expect(UInt64(f.table.ptBaseRegister) == f.table.pgtablePA && f.table.pgtablePA & 0x3fff == 0)
        #expect(f.table.pgtablePA < 1 << 32)
    }

    @Test func goldenDescriptorsV5ShiftAddressesByFour() throws {
        let f = try ExynosFixture(version: 5)
        defer { f.close() }
        // mk_lv1ent_sect with PG_ENT_SHIFT 4: (pa >> 4) | SYSMMU_V5_LV1_PROT[READ|WRITE] (3 << 4) | 2.
        try f.table.map(iova: 0x1000_0000, paddr: 0x8_1230_0000, size: SZ_1M, prot: R | W)
        #expect(f.table.lv1Entry(0x1000_0000) == 0x8123_0032)
        #expect(f.table.iovaToPhys(0x1000_0000 + 0xabcde) == 0x8_123a_bcde)
        // SYSMMU_V5_LV2_PROT[READ] = 1 << 2, small page type 2.
        try f.table.map(iova: 0x2000_3000, paddr: 0x9_8765_4000, size: SZ_4K, prot: R)
        #expect(f.lv2(0x2000_3000) == 0x9876_5406)
        #expect(f.table.iovaToPhys(0x2000_3123) == 0x9_8765_4123)
        // SYSMMU_V5_LV2_PROT[WRITE] = 2 << 2 (v5 supports write-only), large page type 1.
        try f.table.map(iova: 0x2001_0000, paddr: 0x1_2345_0000, size: SZ_64K, prot: W)
        for i in 0..<16 { #expect(f.lv2(0x2001_0000 + UInt64(i) * SZ_4K) == 0x1234_5009) }
        #expect(f.table.iovaToPhys(0x2001_8888) == 0x1_2345_8888)
        // The link to a level-2 table holds its address >> 4; the zero link too.
        let link = f.table.lv1Entry(0x2000_0000)
        #expect(link & 3 == 1 && link & 0x3c == 0)
        #expect(f.driver.zeroLink == UInt32(f.driver.zeroTablePA >> 4) | 1)
        // __sysmmu_set_ptbase writes pgd >> SPAGE_ORDER from v5.
        #expect(UInt64(f.table.ptBaseRegister) << 12 == f.table.pgtablePA)
        // The walker decodes the same 36-bit addresses.
        #expect(try f.translate(0x1000_0042).get().phys == 0x8_1230_0042)
        #expect(try f.translate(0x2001_0042, .write).get().phys == 0x1_2345_0042)
        #expect(try f.translate(0x2000_3004).get() == WalkTranslation(phys: 0x9_8765_4004, size: SZ_4K, level: 2,
                                                                       prot: .read, pte: 0x9876_5406))
        // Past 36 bits the entry cannot hold the address.
        #expect(throws: DriverTableError.range) { try f.table.map(iova: 0x3000_0000, paddr: 1 << 36, size: SZ_1M, prot: R) }
    }

    // MARK: Layout and the zero table

    @Test func emptyEntriesShareTheZeroTable() throws {
        let memory = try makeMemory()
        let driver = try ExynosSysMMUDriver(memory: memory, majorVersion: 3)
        let a = try driver.makeDomain(), b = try driver.makeDomain()
        // Every LV1 entry of every fresh domain is ZERO_LV2LINK, and the zero table is all faults.
        for i in stride(from: UInt64(0), to: 1 << 32, by: 0x10_0000) {
            #expect(a.lv1Entry(i) == driver.zeroLink && b.lv1Entry(i) == driver.zeroLink)
        }
        #expect(driver.zeroLink == UInt32(driver.zeroTablePA) | 1)
        for i in 0..<256 { #expect(entry32(memory, driver.zeroTablePA, i) == 0) }
        // The walker follows the link and faults at level 2, as the v3.3 prefetch workaround intends.
        let r = PageTableWalker.translateExynosSysMMU(memory: memory, ptBase: a.ptBaseRegister, majorVersion: 3,
                                                      coherent: false, iova: 0x1234_5678, access: .read)
        #expect(r == .failure(WalkFault(kind: .translation, level: 2, iova: 0x1234_5678)))
        // The first page in a section replaces the link with a new table; a section's unmap restores the link.
        try a.map(iova: 0x40_0000, paddr: 0x4000_0000, size: SZ_4K, prot: R | W)
        #expect(a.lv1Entry(0x40_0000) != driver.zeroLink && b.lv1Entry(0x40_0000) == driver.zeroLink)
        try a.map(iova: 0x50_0000, paddr: 0x4010_0000, size: SZ_1M, prot: R | W)
        #expect(a.unmap(iova: 0x50_0000, size: SZ_1M) == SZ_1M)
        #expect(a.lv1Entry(0x50_0000) == driver.zeroLink)
        // The zero table stays while domains link to it.
        expectWarns(1) { #expect(!driver.close()) }
        a.destroy()
        b.destroy()
        #expect(driver.close())
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0)
    }

    @Test func lv2EntryCountTracksFreeSlots() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        let s: UInt64 = 0x0100_0000
        #expect(f.table.lv2EntryCount(s) == 0, "zeroed until a table is allocated")
        try f.table.map(iova: s, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        #expect(f.table.lv2EntryCount(s) == 255)
        try f.table.map(iova: s + SZ_64K, paddr: 0x4001_0000, size: SZ_64K, prot: R)
        #expect(f.table.lv2EntryCount(s) == 239)
        // A section over a table with mappings: EADDRINUSE; nothing changes.
        expectWarns(1) { #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: s, paddr: 0x4010_0000, size: SZ_1M, prot: R) } }
        #expect(f.table.unmap(iova: s, size: SZ_4K) == SZ_4K)
        #expect(f.table.lv2EntryCount(s) == 240)
        #expect(f.table.unmap(iova: s + SZ_64K, size: SZ_64K) == SZ_64K)
        #expect(f.table.lv2EntryCount(s) == 256)
        // Now the table is empty: a section replaces (and frees) it, and the count becomes 0.
        let tables = f.table.tableCount
        try f.table.map(iova: s, paddr: 0x4010_0000, size: SZ_1M, prot: R | W)
        #expect(f.table.tableCount == tables - 1)
        #expect(f.table.lv2EntryCount(s) == 0)
        #expect(f.table.lv1Entry(s) == 0x4010_0402)
        // A page inside a section: EADDRINUSE ("mapped with 1MiB page").
        expectWarns(1) { #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: s + SZ_4K, paddr: 0x4000_0000, size: SZ_4K, prot: R) } }
        expectWarns(1) { #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: s, paddr: 0x4000_0000, size: SZ_1M, prot: R) } }
    }

    @Test func unmapReturnsWhatTheDriverReports() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        try f.table.map(iova: 0x0030_0000, paddr: 0x4030_0000, size: SZ_1M, prot: R | W)
        try f.table.map(iova: 0x0040_0000, paddr: 0x4050_0000, size: SZ_64K, prot: R | W)
        try f.table.map(iova: 0x0041_0000, paddr: 0x4060_0000, size: SZ_4K, prot: R | W)
        // A section: a smaller size WARNs and returns 0; 1M removes it all.
        expectWarns(1) { #expect(f.table.unmap(iova: 0x0030_0000, size: SZ_4K) == 0) }
        #expect(f.table.iovaToPhys(0x0030_0000) == 0x4030_0000)
        #expect(f.table.unmap(iova: 0x0030_0000, size: SZ_1M) == SZ_1M)
        // A large page: a 4K unmap WARNs and returns 0; 64K removes the 16 entries.
        expectWarns(1) { #expect(f.table.unmap(iova: 0x0040_0000, size: SZ_4K) == 0) }
        #expect(f.table.unmap(iova: 0x0040_0000, size: SZ_64K) == SZ_64K)
        for i in 0..<16 { #expect(f.lv2(0x0040_0000 + UInt64(i) * SZ_4K) == 0) }
        // A 1M unmap over a table removes only the entry at iova (the core loops).
        #expect(f.table.unmap(iova: 0x0040_0000, size: SZ_1M) == SZ_4K, "an empty LV2 slot reports SPAGE_SIZE")
        #expect(f.table.unmap(iova: 0x0041_0000, size: SZ_64K) == SZ_4K, "a small page is SPAGE_SIZE")
        #expect(f.table.iovaToPhys(0x0041_0000) == 0)
        // Unmapping nothing: upstream reports a size anyway (min(size, SECT_SIZE) for an empty LV1 entry,
        // SPAGE_SIZE for an empty LV2 slot); no WARN, no change.
        expectWarns(0) {
            #expect(f.table.unmap(iova: 0x0800_0000, size: SZ_64K) == SZ_64K)
            #expect(f.table.unmap(iova: 0x0800_0000, size: SZ_1M) == SZ_1M)
            #expect(f.table.unmap(iova: 0x0042_0000, size: SZ_4K) == SZ_4K)
        }
    }

    @Test func invalidationHooksFireWhereTheDriverInvalidates() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        var flpd: [UInt64] = [], entries: [(UInt64, UInt64)] = []
        f.table.flushFLPDCache = { flpd.append($0) }
        f.table.invalidateEntry = { entries.append(($0, $1)) }
        // A table replacing the zero link: one FLPD flush; a second page in the same table: none.
        try f.table.map(iova: 0x20_1000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        try f.table.map(iova: 0x20_2000, paddr: 0x4000_1000, size: SZ_4K, prot: R)
        // A section needs none (the driver's post-write lv1ent_page_zero check never holds).
        try f.table.map(iova: 0x30_0000, paddr: 0x4010_0000, size: SZ_1M, prot: R)
        #expect(flpd == [0x20_1000])
        _ = f.table.unmap(iova: 0x20_1000, size: SZ_4K)
        _ = f.table.unmap(iova: 0x30_0000, size: SZ_1M)
        _ = f.table.unmap(iova: 0x40_0000, size: SZ_64K)
        expectWarns(1) { _ = f.table.unmap(iova: 0x20_2000, size: SZ_2M) }
        #expect(entries.map { $0.0 } == [0x20_1000, 0x30_0000, 0x40_0000])
        #expect(entries.map { $0.1 } == [SZ_4K, SZ_1M, SZ_64K])
    }

    // MARK: The walker and the cache model

    @Test func walkerPermissionsAndNonCoherentSync() throws {
        for version in [3, 5, 7] {
            let f = try ExynosFixture(version: version)
            try f.table.map(iova: 0x1000_0000, paddr: 0x4000_0000, size: SZ_1M, prot: R)
            try f.table.map(iova: 0x2000_0000, paddr: 0x4010_0000, size: SZ_4K, prot: R | W)
            try f.table.map(iova: 0x2001_0000, paddr: 0x4020_0000, size: SZ_64K, prot: 0)
            // Read-only section: writes fault with a permission fault at level 1.
            #expect(try f.translate(0x1000_1234).get().prot == .read)
            #expect(f.translate(0x1000_1234, .write) == .failure(WalkFault(kind: .permission, level: 1, iova: 0x1000_1234)))
            #expect(try f.translate(0x2000_0010, [.read, .write]).get().prot == [.read, .write])
            // No access at all.
            #expect(f.translate(0x2001_0000, .read) == .failure(WalkFault(kind: .permission, level: 2, iova: 0x2001_0000)))
            #expect(f.translate(0x1_0000_0000) == .failure(WalkFault(kind: .translation, level: 1, iova: 0x1_0000_0000)))
            // Every write reached memory's view (the driver syncs for the device): device and CPU agree.
            var dev: UInt32 = 0
            withUnsafeMutableBytes(of: &dev) {
                _ = f.memory.deviceRead(PhysicalAddress(f.table.pgtablePA + (0x1000_0000 >> 20) * 4), into: $0.baseAddress!,
                                        size: 4, coherent: false)
            }
            #expect(dev == f.table.lv1Entry(0x1000_0000))
            #expect(f.table.syncs > 0)
            f.close()
        }
    }

    @Test(arguments: [3, 5]) func walkerAgreesWithIovaToPhysOverRandomHistories(version: Int) throws {
        let f = try ExynosFixture(version: version)
        defer { f.close() }
        var rng = Rng(0xe7a05 &+ UInt64(version))
        let window: UInt64 = 8 * SZ_1M
        // What is mapped, per 4K page: output page.
        var model: [UInt64: UInt64] = [:]
        var prots: [UInt64: IOMMUProt] = [:]
        let paBits: UInt64 = version >= 5 ? 36 : 32
        // What the entry grants: before v5 write implies read (the driver maps WRITE to read/write).
        func granted(_ prot: Int32) -> IOMMUProt {
            let p = IOMMUProt(rawValue: prot & 3)
            return version < 5 && p.contains(.write) ? [.read, .write] : p
        }
        func check() {
            for page in stride(from: UInt64(0), to: window, by: 4096) {
                let iova = page + rng.below(SZ_4K)
                let expected = model[page].map { $0 + (iova & 0xfff) } ?? 0
                #expect(f.table.iovaToPhys(iova) == expected)
                switch f.translate(iova, []) {
                case .success(let t): #expect(t.phys == expected && expected != 0 && t.prot == prots[page])
                case .failure(let fault): #expect(expected == 0 && fault.kind == .translation)
                }
            }
        }
        var maps = 0, unmaps = 0
        for step in 0..<600 {
            let size = [SZ_4K, SZ_4K, SZ_64K, SZ_1M][Int(rng.below(4))]
            let iova = rng.below(window / size) * size
            if rng.below(3) != 0 {
                let pa = (rng.below((1 << paBits) / size - 1) + 1) * size
                let occupied = stride(from: iova, to: iova + size, by: 4096).contains { model[$0] != nil }
                let inSection = f.table.lv1Entry(iova) & 3 == 2
                do {
                    let prot = Int32(rng.below(4)) | (rng.below(2) == 0 ? CACHE : 0)
                    try f.table.map(iova: iova, paddr: pa, size: size, prot: prot)
                    maps += 1
                    #expect(!occupied && !inSection, "map succeeded over a mapping")
                    for off in stride(from: UInt64(0), to: size, by: 4096) {
                        model[iova + off] = pa + off
                        prots[iova + off] = granted(prot)
                    }
                } catch {
                    #expect(error == .addressInUse && (occupied || inSection), "map refused at \(Kernel.hex(iova))")
                }
            } else {
                let hadMapping = stride(from: iova, to: iova + size, by: 4096).contains { model[$0] != nil }
                let removed = f.table.unmap(iova: iova, size: size)
                if hadMapping && removed != 0 { unmaps += 1 }
                for off in stride(from: UInt64(0), to: removed, by: 4096) { model[iova + off] = nil }
            }
            if step % 100 == 99 { check() }
        }
        check()
        #expect(maps > 100 && unmaps > 30, "the history exercised both")
    }

    @Test func nonCoherentWalkerSeesOnlySyncedEntries() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        try f.table.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        // An entry the CPU writes without exynos_iommu_set_pte's sync stays invisible to the SysMMU.
        let lv2 = f.memory.physical.virtualAddress(of: PhysicalAddress(UInt64(f.table.lv1Entry(0) & 0xffff_ffc0)))!
        lv2.storeBytes(of: ExynosSysMMU.makeSmallPage(0x4000_1000, prot: R, majorVersion: 3), toByteOffset: 2 * 4, as: UInt32.self)
        #expect(f.table.iovaToPhys(0x2000) == 0x4000_1000)
        #expect(f.translate(0x2000) == .failure(WalkFault(kind: .translation, level: 2, iova: 0x2000)))
        #expect(try f.translate(0x1000).get().phys == 0x4000_0000)
        lv2.storeBytes(of: 0, toByteOffset: 2 * 4, as: UInt32.self)
        // A coherent SysMMU: no syncs, and its walker reads the CPU's view.
        let memory = try makeMemory()
        let driver = try ExynosSysMMUDriver(memory: memory, majorVersion: 7, coherent: true)
        let c = try driver.makeDomain()
        try c.map(iova: 0x10_0000, paddr: 0x4000_0000, size: SZ_1M, prot: R | W)
        #expect(c.syncs == 0)
        let r = PageTableWalker.translateExynosSysMMU(memory: memory, ptBase: c.ptBaseRegister, majorVersion: 7, coherent: true,
                                                      iova: 0x10_0abc, access: .write)
        #expect(try r.get().phys == 0x4000_0abc)
        c.destroy()
        #expect(driver.close())
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0)
    }

    // MARK: Bad input

    @Test func badInputIsRefusedBeforeAnyWork() throws {
        let f = try ExynosFixture(version: 3)
        defer { f.close() }
        let tables = f.table.tableCount
        expectWarns(5) {
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_1M, prot: R) }
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0x1000, paddr: 0x4000_0800, size: SZ_4K, prot: R) }
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0, paddr: 0x4000_0000, size: SZ_16K, prot: R) }
            #expect(throws: DriverTableError.range) { try f.table.map(iova: 1 << 32, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
            #expect(throws: DriverTableError.range) { try f.table.map(iova: 0, paddr: 1 << 32, size: SZ_4K, prot: R) }
        }
        expectWarns(3) {
            #expect(f.table.unmap(iova: 1 << 32, size: SZ_4K) == 0)
            #expect(f.table.unmap(iova: 0x1000, size: SZ_64K) == 0)
            #expect(f.table.unmap(iova: 0, size: SZ_2M) == 0)
        }
        #expect(f.table.iovaToPhys(1 << 32) == 0)
        #expect(f.table.tableCount == tables, "no table allocated by a refused call")
        // A large page over a small one: the driver clears the entries it wrote and returns EADDRINUSE.
        try f.table.map(iova: 0x6_5000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        expectWarns(1) { #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: 0x6_0000, paddr: 0x4100_0000, size: SZ_64K, prot: R) } }
        for i in 0..<16 where i != 5 { #expect(f.lv2(0x6_0000 + UInt64(i) * SZ_4K) == 0) }
        #expect(f.table.iovaToPhys(0x6_5000) == 0x4000_0000)
        #expect(f.table.lv2EntryCount(0) == 255)
        // The same small page twice.
        expectWarns(1) { #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: 0x6_5000, paddr: 0x4000_0000, size: SZ_4K, prot: R) } }
    }

    @Test func destroyFreesEveryTable() throws {
        let f = try ExynosFixture(version: 5)
        for i in 0..<64 { try f.table.map(iova: UInt64(i) * SZ_1M + SZ_4K, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
        try f.table.map(iova: 100 * SZ_1M, paddr: 0x4000_0000, size: SZ_1M, prot: R)
        #expect(f.table.tableCount == 65, "LV1 and 64 level-2 tables (the zero table is the driver's)")
        var out = ""
        f.table.dump(into: &out)
        #expect(out.contains("section") && out.contains("small page"))
        f.close()
    }
}
