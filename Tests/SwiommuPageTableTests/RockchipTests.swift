// The Rockchip IOMMU table against rockchip-iommu.c: golden DTEs and PTEs from the driver's macros, v1 and v2
// address packing, the walker against iova_to_phys over random histories, bad input, and no leaks.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

struct RockchipFixture {
    let memory: SimulatedMemory
    let table: RockchipIOMMUTable

    init(_ version: RockchipIOMMUVersion, coherent: Bool = false) throws {
        memory = try makeMemory()
        table = try RockchipIOMMUTable(memory: memory, version: version, coherent: coherent)
    }

    func translate(_ iova: UInt64, _ access: WalkAccess = .read) -> Result<WalkTranslation, WalkFault> {
        PageTableWalker.translateRockchip(memory: memory, dteAddr: table.dteAddrRegister, version: table.version,
                                          coherent: false, iova: iova, access: access)
    }

    func close(sourceLocation: SourceLocation = #_sourceLocation) {
        table.destroy()
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0, "tables leaked",
                sourceLocation: sourceLocation)
        #expect(memory.liveAllocations().isEmpty, sourceLocation: sourceLocation)
    }
}

@Suite(.serialized) struct RockchipTests {
    // MARK: Golden descriptors

    @Test func goldenV1() throws {
        let f = try RockchipFixture(.v1)
        defer { f.close() }
        // rk_mk_pte: (page & RK_PTE_PAGE_ADDRESS_MASK) | READABLE (bit 1) | WRITABLE (bit 2) | VALID (bit 0).
        try f.table.map(iova: 0x1234_5000, paddr: 0x8765_4000, size: SZ_4K, prot: R | W)
        #expect(f.table.pageTableEntry(0x1234_5000) == 0x8765_4007)
        try f.table.map(iova: 0x1234_6000, paddr: 0x8765_5000, size: SZ_4K, prot: R)
        #expect(f.table.pageTableEntry(0x1234_6000) == 0x8765_5003)
        // IOMMU_CACHE is a TODO in the driver: it does not reach the entry.
        try f.table.map(iova: 0x1234_7000, paddr: 0x8765_6000, size: SZ_4K, prot: W | CACHE)
        #expect(f.table.pageTableEntry(0x1234_7000) == 0x8765_6005)
        try f.table.map(iova: 0x1234_8000, paddr: 0x8765_7000, size: SZ_4K, prot: 0)
        #expect(f.table.pageTableEntry(0x1234_8000) == 0x8765_7001)
        // rk_mk_dte: (pt_dma & RK_DTE_PT_ADDRESS_MASK) | RK_DTE_PT_VALID; index = iova[31:22].
        let dte = f.table.directoryEntry(0x1234_5000)
        #expect(dte & 0xfff == 1)
        #expect(entry32(f.memory, f.table.directoryPA, 0x1234_5000 >> 22) == dte)
        #expect(entry32(f.memory, UInt64(dte & 0xffff_f000), (0x1234_5000 >> 12) & 0x3ff) == 0x8765_4007)
        // DTE_ADDR holds rk_mk_dte(dt_dma); tables from ZONE_DMA32.
        #expect(f.table.dteAddrRegister == UInt32(f.table.directoryPA) | 1 && f.table.directoryPA < 1 << 32)
        #expect(f.table.iovaToPhys(0x1234_5abc) == 0x8765_4abc)
        #expect(f.table.iovaToPhys(0x1234_9000) == 0)
        // Unmapping clears the valid bit only (rk_mk_pte_invalid).
        #expect(f.table.unmap(iova: 0x1234_5000, size: SZ_4K) == SZ_4K)
        #expect(f.table.pageTableEntry(0x1234_5000) == 0x8765_4006)
        #expect(f.table.iovaToPhys(0x1234_5abc) == 0)
        // An invalid PTE with stale bits is free to map again.
        try f.table.map(iova: 0x1234_5000, paddr: 0x1000_0000, size: SZ_4K, prot: R)
        #expect(f.table.pageTableEntry(0x1234_5000) == 0x1000_0003)
    }

    @Test func goldenV2PacksAddressBits39To32() throws {
        // rk_mk_dte_v2: PA[31:12] stay, PA[35:32] go to bits [11:8], PA[39:36] to bits [7:4].
        #expect(Rockchip.makeDTE(0x12_3456_7000, .v2) == 0x3456_7211)
        #expect(Rockchip.makePTE(0x12_3456_7000, prot: R | W, .v2) == 0x3456_7217)
        #expect(Rockchip.makePTE(0xff_ffff_f000, prot: R, .v2) == 0xffff_fff3)
        #expect(Rockchip.makePTE(0x1_0000_0000, prot: W, .v2) == 0x0000_0105)
        #expect(Rockchip.makePTE(0x10_0000_0000, prot: 0, .v2) == 0x0000_0011)
        // rk_dte_pt_address_v2 inverts it; v1 drops everything past 32 bits.
        #expect(Rockchip.address(0x3456_7217, .v2) == 0x12_3456_7000)
        #expect(Rockchip.address(0xffff_fff3, .v2) == 0xff_ffff_f000)
        #expect(Rockchip.address(0x3456_7217, .v1) == 0x3456_7000)
        #expect(Rockchip.makePTE(0x12_3456_7000, prot: R | W, .v1) == 0x3456_7007)
        // The compatibles.
        #expect(RockchipIOMMUVersion(compatible: "rockchip,iommu") == .v1)
        #expect(RockchipIOMMUVersion(compatible: "rockchip,rk3568-iommu") == .v2)
        #expect(RockchipIOMMUVersion(compatible: "rockchip,iommu-v2") == .v2)
        #expect(RockchipIOMMUVersion(compatible: "arm,smmu-v3") == nil)

        let f = try RockchipFixture(.v2)
        defer { f.close() }
        try f.table.map(iova: 0x40_0000, paddr: 0x12_3456_7000, size: SZ_4K, prot: R | W)
        #expect(f.table.pageTableEntry(0x40_0000) == 0x3456_7217)
        #expect(f.table.iovaToPhys(0x40_0123) == 0x12_3456_7123)
        #expect(try f.translate(0x40_0123, .write).get() == WalkTranslation(phys: 0x12_3456_7123, size: SZ_4K, level: 2,
                                                                             prot: [.read, .write], pte: 0x3456_7217))
        // v2 tables come from anywhere (here above 4 GiB): DTE_ADDR and the DTEs carry the high bits.
        #expect(f.table.directoryPA >> 32 != 0)
        #expect(Rockchip.address(f.table.dteAddrRegister, .v2) == f.table.directoryPA)
        #expect(Rockchip.address(f.table.directoryEntry(0x40_0000), .v2) >> 32 != 0)
        #expect(throws: DriverTableError.range) { try f.table.map(iova: 0, paddr: 1 << 40, size: SZ_4K, prot: R) }
    }

    @Test func multiPageMapsAndUnwinds() throws {
        let f = try RockchipFixture(.v1)
        defer { f.close() }
        // Any power of two up to 4 MiB within one page table.
        try f.table.map(iova: 0x80_0000, paddr: 0x4000_0000, size: 0x40_0000, prot: R | W)
        #expect(f.table.iovaToPhys(0xbf_f000) == 0x403f_f000)
        #expect(f.table.unmap(iova: 0x80_0000, size: 0x40_0000) == 0x40_0000)
        // A map over a valid PTE unwinds what it wrote and returns EADDRINUSE.
        try f.table.map(iova: 0x10_3000, paddr: 0x5000_0000, size: SZ_4K, prot: R)
        #expect(throws: DriverTableError.addressInUse) {
            try f.table.map(iova: 0x10_0000, paddr: 0x6000_0000, size: SZ_16K, prot: R | W)
        }
        for i in 0..<3 {
            let pte = f.table.pageTableEntry(0x10_0000 + UInt64(i) * SZ_4K)!
            #expect(pte == (0x6000_0000 + UInt32(i) * 0x1000) | 6, "written, then invalidated")
        }
        #expect(f.table.iovaToPhys(0x10_3000) == 0x5000_0000)
        // Unmap stops at the first invalid PTE.
        try f.table.map(iova: 0x20_0000, paddr: 0x5000_0000, size: SZ_4K, prot: R)
        try f.table.map(iova: 0x20_1000, paddr: 0x5000_1000, size: SZ_4K, prot: R)
        #expect(f.table.unmap(iova: 0x20_0000, size: SZ_16K) == 2 * SZ_4K)
        // Unmapping nothing returns 0: an invalid DTE, or an invalid first PTE.
        expectWarns(0) {
            #expect(f.table.unmap(iova: 0xf000_0000, size: SZ_4K) == 0)
            #expect(f.table.unmap(iova: 0x20_0000, size: SZ_4K) == 0)
        }
    }

    @Test func zapHookFiresWhereTheDriverZaps() throws {
        let f = try RockchipFixture(.v1)
        defer { f.close() }
        var zaps: [(UInt64, UInt64)] = []
        f.table.zapIOVA = { zaps.append(($0, $1)) }
        // rk_iommu_zap_iova_first_last after a map; the unmapped range after an unmap.
        try f.table.map(iova: 0x10_0000, paddr: 0x4000_0000, size: SZ_64K, prot: R)
        try f.table.map(iova: 0x20_0000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        _ = f.table.unmap(iova: 0x10_0000, size: SZ_64K)
        #expect(zaps.map { $0.0 } == [0x10_0000, 0x10_f000, 0x20_0000, 0x10_0000])
        #expect(zaps.map { $0.1 } == [SZ_4K, SZ_4K, SZ_4K, SZ_64K])
        // An invalid DTE returns before any zap.
        zaps = []
        _ = f.table.unmap(iova: 0x8000_0000, size: SZ_4K)
        #expect(zaps.isEmpty)
    }

    @Test func walkerPermissionsAndFaults() throws {
        for version in [RockchipIOMMUVersion.v1, .v2] {
            let f = try RockchipFixture(version)
            try f.table.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
            try f.table.map(iova: 0x2000, paddr: 0x4000_1000, size: SZ_4K, prot: W)
            #expect(f.translate(0x1000, .write) == .failure(WalkFault(kind: .permission, level: 2, iova: 0x1000)))
            #expect(f.translate(0x2000, .read) == .failure(WalkFault(kind: .permission, level: 2, iova: 0x2000)))
            #expect(try f.translate(0x2008, .write).get().phys == 0x4000_1008)
            #expect(f.translate(0x3000) == .failure(WalkFault(kind: .translation, level: 2, iova: 0x3000)))
            #expect(f.translate(0x4000_0000) == .failure(WalkFault(kind: .translation, level: 1, iova: 0x4000_0000)))
            #expect(f.translate(1 << 32) == .failure(WalkFault(kind: .translation, level: 1, iova: 1 << 32)))
            #expect(f.table.syncs > 0, "tables synced for the non-coherent walker")
            f.close()
        }
    }

    @Test(arguments: [RockchipIOMMUVersion.v1, .v2]) func walkerAgreesWithIovaToPhysOverRandomHistories(version: RockchipIOMMUVersion) throws {
        let f = try RockchipFixture(version)
        defer { f.close() }
        var rng = Rng(version == .v1 ? 0x4b31 : 0x4b32)
        let window: UInt64 = 16 * SZ_1M
        var model: [UInt64: UInt64] = [:]
        var prots: [UInt64: IOMMUProt] = [:]
        var maps = 0, unmaps = 0
        let paBits = UInt64(version.physicalBits)
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
        for step in 0..<800 {
            let size = SZ_4K << rng.below(5)
            let iova = rng.below(window / size) * size
            if rng.below(3) != 0 {
                let pa = (rng.below((1 << paBits) / size - 1) + 1) * size
                let occupied = stride(from: iova, to: iova + size, by: 4096).contains { model[$0] != nil }
                do {
                    let prot = Int32(rng.below(4)) | (rng.below(2) == 0 ? CACHE : 0)
                    try f.table.map(iova: iova, paddr: pa, size: size, prot: prot)
                    maps += 1
                    #expect(!occupied)
                    for off in stride(from: UInt64(0), to: size, by: 4096) {
                        model[iova + off] = pa + off
                        prots[iova + off] = IOMMUProt(rawValue: prot & 3)
                    }
                } catch {
                    #expect(error == .addressInUse && occupied)
                }
            } else {
                var expected: UInt64 = 0
                while expected < size && model[iova + expected] != nil { expected += SZ_4K }
                #expect(f.table.unmap(iova: iova, size: size) == expected)
                if expected != 0 { unmaps += 1 }
                for off in stride(from: UInt64(0), to: expected, by: 4096) { model[iova + off] = nil }
            }
            if step % 200 == 199 { check() }
        }
        check()
        #expect(maps > 100 && unmaps > 50, "the history exercised both")
    }

    @Test func nonCoherentWalkerSeesOnlySyncedEntries() throws {
        let f = try RockchipFixture(.v1)
        defer { f.close() }
        try f.table.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        let dte = f.table.directoryEntry(0x1000)
        // A PTE written by the CPU without rk_table_flush stays invisible to the IOMMU.
        let pt = f.memory.physical.virtualAddress(of: PhysicalAddress(UInt64(dte & 0xffff_f000)))!
        pt.storeBytes(of: Rockchip.makePTE(0x4000_1000, prot: R, .v1), toByteOffset: 2 * 4, as: UInt32.self)
        #expect(f.table.iovaToPhys(0x2000) == 0x4000_1000)
        #expect(f.translate(0x2000) == .failure(WalkFault(kind: .translation, level: 2, iova: 0x2000)))
        #expect(try f.translate(0x1000).get().phys == 0x4000_0000)
        // A coherent table needs no sync and the coherent walker sees the CPU's view.
        let memory = try makeMemory()
        let c = try RockchipIOMMUTable(memory: memory, version: .v2, coherent: true)
        try c.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        #expect(c.syncs == 0)
        let r = PageTableWalker.translateRockchip(memory: memory, dteAddr: c.dteAddrRegister, version: .v2, coherent: true,
                                                  iova: 0x1000, access: .read)
        #expect(try r.get().phys == 0x4000_0000)
        c.destroy()
        #expect(memory.statistics.pageBlocks == 0 && memory.statistics.kmallocObjects == 0)
    }

    @Test func badInputIsRefusedBeforeAnyWork() throws {
        let f = try RockchipFixture(.v1)
        defer { f.close() }
        let tables = f.table.tableCount
        expectWarns(6) {
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0x800, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0x1000, paddr: 0x4000_0000, size: SZ_16K, prot: R) }
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0, paddr: 0x4000_0000, size: 0x80_0000, prot: R) }
            #expect(throws: DriverTableError.invalid) { try f.table.map(iova: 0, paddr: 0x4000_0000, size: 0x3000, prot: R) }
            #expect(throws: DriverTableError.range) { try f.table.map(iova: 1 << 32, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
            #expect(throws: DriverTableError.range) { try f.table.map(iova: 0, paddr: 1 << 32, size: SZ_4K, prot: R) }
        }
        expectWarns(2) {
            #expect(f.table.unmap(iova: 1 << 32, size: SZ_4K) == 0)
            #expect(f.table.unmap(iova: 0x1000, size: SZ_16K) == 0)
        }
        #expect(f.table.iovaToPhys(1 << 32) == 0)
        #expect(f.table.tableCount == tables)
        try f.table.map(iova: 0, paddr: 0x4000_0000, size: SZ_4K, prot: R)
        #expect(throws: DriverTableError.addressInUse) { try f.table.map(iova: 0, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
    }

    @Test func destroyFreesEveryTable() throws {
        let f = try RockchipFixture(.v2)
        for i in 0..<32 { try f.table.map(iova: UInt64(i) << 22, paddr: 0x4000_0000, size: SZ_4K, prot: R) }
        #expect(f.table.tableCount == 33)
        var out = ""
        f.table.dump(into: &out)
        #expect(out.contains("DTE[31]") && out.contains("PTE[0]"))
        f.close()
    }
}
