// Golden descriptors: for a set of map calls, the exact descriptors and table layout Linux 6.17 produces,
// derived bit by bit from the kernel's format code (io-pgtable-arm.c, -arm-v7s.c, -dart.c) and the Arm
// architecture manual (DDI 0487 D8.3 for long descriptors, DDI 0406C B3.5 for short ones), plus the
// registers alloc_io_pgtable_ops fills in.
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

@Suite(.serialized) struct GoldenTests {
    /// Follow table descriptors from `base` down the given indices; returns the last table's PA.
    func descend(_ memory: SimulatedMemory, from base: UInt64, _ indices: [Int], tableBits: UInt64 = 0x3) -> UInt64 {
        var table = base
        for i in indices {
            let pte = entry64(memory, table, i)
            #expect(pte & 0x3 == tableBits & 0x3, "table descriptor type 0b11 at index \(i): \(Kernel.hex(pte))")
            #expect(pte & ~address(pte) == tableBits, "a table descriptor is the next table's PA | 0b11: \(Kernel.hex(pte))")
            #expect(memory.physical.isRAM(PhysicalAddress(address(pte)), size: 4096))
            table = address(pte)
        }
        return table
    }

    @Test func lpaeStage1FourK() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        let cfg = t.cfg.pointee
        // TCR: IPS 0b101 (48 bits), TG0 0b00 (4K), SH inner (0b11), ORGN/IRGN write-back write-allocate (0b01),
        // T0SZ = 64 - 48.
        #expect(cfg.arm_lpae_s1_cfg.tcr.ips == 5 && cfg.arm_lpae_s1_cfg.tcr.tg == 0 && cfg.arm_lpae_s1_cfg.tcr.sh == 3)
        #expect(cfg.arm_lpae_s1_cfg.tcr.orgn == 1 && cfg.arm_lpae_s1_cfg.tcr.irgn == 1 && cfg.arm_lpae_s1_cfg.tcr.tsz == 16)
        // MAIR: Attr0 0x44 (normal NC), Attr1 0xff (write-back RWA), Attr2 0x04 (device nGnRE), Attr3 0xf4.
        #expect(cfg.arm_lpae_s1_cfg.mair == 0xf404_ff44)
        let ttbr = cfg.arm_lpae_s1_cfg.ttbr
        #expect(ttbr & 0xfff == 0 && ttbr >= 0x8_8000_0000, "the pgd: a page of RAM above 4 GiB (GFP_KERNEL)")

        // 4K page, R|W|CACHE|NOEXEC, at L0[0] L1[1] L2[1] L3[1]:
        //   XN 0b11 << 53 (PXN, UXN) | nG (11) | AF (10) | SH 0b11 << 8 | AP[1] unprivileged (6) | AP[2] 0 (writable)
        //   | AttrIndx 1 << 2 | 0b11 page = 0x0060_0000_0000_0f47, with the output address in [47:12].
        #expect(t.map(0x4020_1000, 0x4000_0000, SZ_4K, prot: R | W | CACHE | NOEXEC) == 0)
        let l3 = descend(memory, from: ttbr, [0, 1, 1])
        #expect(entry64(memory, l3, 1) == 0x0060_0000_4000_0f47)
        #expect(entry64(memory, l3, 0) == 0 && entry64(memory, l3, 2) == 0)

        // 2M block, R only, at L2[2] of the same level-2 table:
        //   nG | AF | SH 0b10 (outer) | AP[2] read-only (7) | AP[1] | AttrIndx 0 | 0b01 block = 0xec1.
        #expect(t.map(0x4040_0000, 0x8000_0000, SZ_2M, prot: R) == 0)
        let l2 = descend(memory, from: ttbr, [0, 1])
        #expect(entry64(memory, l2, 2) == 0x0000_0000_8000_0ec1)

        // 1G block, R|W|MMIO|PRIV, at L0[1] L1[0]: nG | AF | SH outer | AP[1] clear (privileged only)
        //   | AttrIndx 2 (device) | 0b01 = 0xe09.
        #expect(t.map(0x80_0000_0000, 0xc000_0000, SZ_1G, prot: R | W | MMIO | PRIV) == 0)
        let l1 = descend(memory, from: ttbr, [1])
        #expect(entry64(memory, l1, 0) == 0x0000_0000_c000_0e09)

        // The walker reads the same bits back.
        if case .success(let w) = t.translate(0x4020_1234, .read) {
            #expect(w.phys == 0x4000_0234 && w.size == SZ_4K && w.level == 3 && w.pte == 0x0060_0000_4000_0f47)
            #expect(w.prot == [.read, .write, .noExec, .cache])
        } else { Issue.record("walk of the 4K page") }
        if case .success(let w) = t.translate(0x4050_0000, .read) {
            #expect(w.phys == 0x8010_0000 && w.size == SZ_2M && w.level == 2 && w.prot == [.read])
        } else { Issue.record("walk of the 2M block") }
        if case .failure(let f) = t.translate(0x4050_0000, .write) {
            #expect(f.kind == .permission && f.level == 2)
        } else { Issue.record("a write to a read-only block") }
        if case .failure(let f) = t.translate(0x80_0000_0010, .read) {
            #expect(f.kind == .permission && f.level == 1, "IOMMU_PRIV: no unprivileged access")
        } else { Issue.record("an unprivileged read of a privileged block") }
        if case .success(let w) = t.translate(0x80_0000_0010, [.read, .write, .privileged]) {
            #expect(w.phys == 0xc000_0010 && w.prot == [.read, .write, .mmio, .priv])
        } else { Issue.record("a privileged access") }
    }

    @Test func lpaeStage1Quirks() throws {
        let memory = try makeMemory()
        // ARM_NS: NS (bit 5) in leaves, NSTable (bit 63) in table descriptors.
        let ns = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 39, oas: 40, quirks: PageTableQuirk.armNS,
                                        memory: memory))
        #expect(ns.map(0x1000, 0x2000, SZ_4K, prot: R | W) == 0)
        // ias 39 with 4K: three levels from level 1 (T0SZ 25), IPS 0b010 (40 bits).
        #expect(ns.cfg.pointee.arm_lpae_s1_cfg.tcr.tsz == 25 && ns.cfg.pointee.arm_lpae_s1_cfg.tcr.ips == 2)
        let l1 = entry64(memory, ns.cfg.pointee.arm_lpae_s1_cfg.ttbr, 0)
        #expect(l1 & (1 << 63) != 0 && l1 & 3 == 3)
        let l2 = entry64(memory, l1 & 0x0000_ffff_ffff_f000, 0)
        #expect(l2 & (1 << 63) != 0)
        // nG | AF | SH outer | AP[1] | NS (5) | page = 0xe63.
        #expect(entry64(memory, l2 & 0x0000_ffff_ffff_f000, 1) == 0x2000 | 0xe63)
        ns.close()

        // ARM_HD: a writable leaf gets DBM (bit 51) instead of nothing; a read-only one keeps AP[2].
        let hd = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 32, oas: 40, quirks: PageTableQuirk.armHD,
                                        memory: memory))
        #expect(hd.map(0x1000, 0x2000, SZ_4K, prot: R | W) == 0)
        #expect(hd.map(0x2000, 0x3000, SZ_4K, prot: R) == 0)
        // ias 32: level 1 holds 4 entries.
        let top = hd.cfg.pointee.arm_lpae_s1_cfg.ttbr
        let leafTable = address(entry64(memory, address(entry64(memory, top, 0)), 0))
        #expect(entry64(memory, leafTable, 1) == (1 << 51) | 0x2000 | 0xe43)
        #expect(entry64(memory, leafTable, 2) == 0x3000 | 0xec3)
        hd.close()

        // TTBR1: TG1 encodes 4K as 0b10; the upper range is sign-extended.
        let hi = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M, ias: 48, oas: 48,
                                        quirks: PageTableQuirk.armTTBR1, memory: memory))
        #expect(hi.cfg.pointee.arm_lpae_s1_cfg.tcr.tg == 2)
        let topPage: UInt64 = 0xffff_ffff_ffff_f000
        #expect(hi.map(topPage, 0x5000, SZ_4K, prot: R | W) == 0)
        #expect(hi.map(0x1000, 0x5000, SZ_4K, prot: R | W) == -Errno.range.rawValue, "a lower-half IOVA")
        #expect(hi.phys(topPage + 0x10) == 0x5010)
        let hl3 = descend(memory, from: hi.cfg.pointee.arm_lpae_s1_cfg.ttbr, [511, 511, 511])
        #expect(entry64(memory, hl3, 511) == 0x5000 | 0xe43)
        if case .success(let w) = hi.translate(topPage + 0x10) { #expect(w.phys == 0x5010) } else { Issue.record("TTBR1 walk") }
        if case .failure(let f) = hi.translate(0x1000) { #expect(f.kind == .translation && f.level == 0) } else { Issue.record("TTBR1 range") }
        hi.close()

        // Other granules' TG encodings: TG0 16K 0b10, 64K 0b01; TG1 16K 0b01, 64K 0b11.
        for (sizes, quirks, tg) in [(SZ_16K, UInt(0), UInt32(2)), (SZ_64K, UInt(0), UInt32(1)),
                                   (SZ_16K, PageTableQuirk.armTTBR1, UInt32(1)), (SZ_64K, PageTableQuirk.armTTBR1, UInt32(3))] {
            let g = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: sizes, ias: 48, oas: 48, quirks: quirks, memory: memory))
            #expect(g.cfg.pointee.arm_lpae_s1_cfg.tcr.tg == tg)
            g.close()
        }
    }

    @Test func lpaeNonCoherentRegistersAndSoftwareSyncBit() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, coherent: false, memory: memory))
        // Non-coherent walk: SH outer, IRGN/ORGN non-cacheable.
        #expect(t.cfg.pointee.arm_lpae_s1_cfg.tcr.sh == 2 && t.cfg.pointee.arm_lpae_s1_cfg.tcr.irgn == 0)
        #expect(t.cfg.pointee.arm_lpae_s1_cfg.tcr.orgn == 0)
        #expect(t.map(0x1000, 0x2000, SZ_4K, prot: R | W) == 0)
        let ttbr = t.cfg.pointee.arm_lpae_s1_cfg.ttbr
        // The CPU's copy of a table descriptor carries SW_SYNC (bit 55) once it was synced; memory's copy, written
        // back by the clean before the bit was set, does not (arm_lpae_install_table).
        let cpu = entry64(memory, ttbr, 0)
        let device = deviceEntry64(memory, ttbr, 0)
        #expect(cpu & (1 << 55) != 0 && device & (1 << 55) == 0 && cpu & ~(1 << 55) == device)
        t.close()
        // OUTER_WBWA: outer write-back for a non-coherent walker, refused with a coherent one.
        let o = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, coherent: false,
                                       quirks: PageTableQuirk.armOuterWBWA, memory: memory))
        #expect(o.cfg.pointee.arm_lpae_s1_cfg.tcr.orgn == 1 && o.cfg.pointee.arm_lpae_s1_cfg.tcr.irgn == 0)
        o.close()
        #expect(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K, ias: 48, oas: 48, coherent: true,
                          quirks: PageTableQuirk.armOuterWBWA, memory: memory) == nil)
    }

    @Test func lpaeStage2ConcatenatedFourK() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S2, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 40, oas: 40, memory: memory))
        defer { t.close() }
        let vtcr = t.cfg.pointee.arm_lpae_s2_cfg.vtcr
        // 40-bit IPA with 4K: level 0 would hold 2 entries, so the Arm ARM (R_SRKBC) wants 2 concatenated level-1
        // tables: SL0 0b01 (start at level 1), T0SZ 24, PS 0b010.
        #expect(vtcr.sl == 1 && vtcr.tsz == 24 && vtcr.ps == 2 && vtcr.tg == 0 && vtcr.sh == 3 && vtcr.irgn == 1)
        let vttbr = t.cfg.pointee.arm_lpae_s2_cfg.vttbr
        // The concatenated pgd is 2 pages (8 KiB), physically contiguous and aligned to its size.
        #expect(vttbr & 0x1fff == 0)
        // IPA 0x80_0000_1000 indexes entry 512: the second concatenated table.
        // S2AP read (6) and write (7) | MemAttr 0b1111 (outer/inner write-back) << 2 | SH inner | AF | page = 0x7ff.
        #expect(t.map(0x80_0000_1000, 0x1234_5000, SZ_4K, prot: R | W | CACHE) == 0)
        let l3 = descend(memory, from: vttbr, [512, 0])
        #expect(entry64(memory, l3, 1) == 0x1234_57ff)
        // Read-only non-cacheable: S2AP 0b01 | MemAttr 0b0101 | SH outer | AF | page = 0x657.
        #expect(t.map(0x2000, 0x3000, SZ_4K, prot: R) == 0)
        // Write-only device: S2AP 0b10 | MemAttr 0b0001 | SH outer | AF | page = 0x687.
        #expect(t.map(0x3000, 0x4000, SZ_4K, prot: W | MMIO) == 0)
        let low = descend(memory, from: vttbr, [0, 0])
        #expect(entry64(memory, low, 2) == 0x3657)
        #expect(entry64(memory, low, 3) == 0x4687)
        if case .success(let w) = t.translate(0x3000, .write) { #expect(w.prot == [.write, .mmio]) } else { Issue.record("S2 walk") }
        if case .failure(let f) = t.translate(0x3000, .read) { #expect(f.kind == .permission) } else { Issue.record("S2 no-read") }
        if case .success(let w) = t.translate(0x80_0000_1000, .read) { #expect(w.prot == [.read, .write, .cache]) } else { Issue.record("S2") }

        // S2FWB: MemAttr 0b0110 forces write-back.
        let fwb = try #require(makeTable(ARM_64_LPAE_S2, pageSizes: SZ_4K, ias: 32, oas: 40, quirks: PageTableQuirk.armS2FWB,
                                         memory: memory))
        #expect(fwb.map(0x1000, 0x1000, SZ_4K, prot: R | W | CACHE) == 0)
        let f3 = descend(memory, from: fwb.cfg.pointee.arm_lpae_s2_cfg.vttbr, [0, 0])
        #expect(entry64(memory, f3, 1) == 0x1000 | 0x7db)
        if case .success(let w) = fwb.translate(0x1000) { #expect(w.prot.contains(.cache)) } else { Issue.record("FWB walk") }
        fwb.close()
    }

    @Test func lpaeSixtyFourKWithFiftyTwoBitOutput() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_64K | SZ_512M | (1 << 42), ias: 48, oas: 52, memory: memory))
        defer { t.close() }
        // With a 64K granule and oas > 48, 4 TiB level-1 blocks may stay, and IPS is 0b110 (52 bits).
        #expect(UInt64(t.cfg.pointee.pgsize_bitmap) == SZ_64K | SZ_512M | (1 << 42))
        #expect(t.cfg.pointee.arm_lpae_s1_cfg.tcr.ips == 6 && t.cfg.pointee.arm_lpae_s1_cfg.tcr.tg == 1)
        // PA[51:48] is packed into bits [15:12] (paddr_to_iopte): 0xf_0000_0001_0000 -> 0x1_f000 in the descriptor.
        let pa: UInt64 = 0x000f_0000_0001_0000
        #expect(t.map(0x1_0000, pa, SZ_64K, prot: R | W) == 0)
        // ias 48 with 64K: levels 1-3, level 1 with 64 entries.
        let ttbr = t.cfg.pointee.arm_lpae_s1_cfg.ttbr
        let l3 = address(entry64(memory, address(entry64(memory, ttbr, 0)), 0))
        #expect(entry64(memory, l3, 1) == 0x1_f000 | 0xe43)
        #expect(t.phys(0x1_0042) == pa + 0x42)
        // A 4 TiB block without the 48-bit limit of the other granules.
        #expect(t.map(1 << 42, 1 << 42, 1 << 42, prot: R) == 0)
        #expect(t.phys((1 << 42) + 0x1234) == (1 << 42) + 0x1234)
        if case .success(let w) = t.translate((1 << 42) + 0x1234) { #expect(w.size == 1 << 42 && w.level == 1) } else { Issue.record("4T") }
        if case .success(let w) = t.translate(0x1_0042) { #expect(w.phys == pa + 0x42 && w.size == SZ_64K) } else { Issue.record("52-bit walk") }
    }

    @Test func maliDescriptors() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_MALI_LPAE, pageSizes: SZ_4K | SZ_2M, ias: 48, oas: 40, memory: memory))
        defer { t.close() }
        let transtab = t.cfg.pointee.arm_mali_lpae_cfg.transtab
        // TRANSTAB: pgd | READ_INNER (bit 2) | ADRMODE_TABLE (0b11) | SHARE_OUTER (bit 4) for a coherent walk.
        #expect(transtab & 0xfff == 0x17)
        // MEMATTR: 0x88 (implementation defined) at 0 and 2, 0x8d (write-allocate) at 1.
        #expect(t.cfg.pointee.arm_mali_lpae_cfg.memattr == 0x88_8d88)
        // Mali leaves: stage-2-like permissions (6 read, 7 write), AttrIndx, outer shareable even with CACHE, no
        // AF, and 0b01 even at level 3: 0x40 | 0x80 | 1 << 2 | 0x200 | 0b01 = 0x2c5.
        #expect(t.map(0x1000, 0x7000, SZ_4K, prot: R | W | CACHE) == 0)
        let l3 = descend(memory, from: transtab & ~0xfff, [0, 0, 0])
        #expect(entry64(memory, l3, 1) == 0x7000 | 0x2c5)
        if case .success(let w) = t.translate(0x1000, .write) { #expect(w.phys == 0x7000 && w.prot == [.read, .write, .cache]) }
        else { Issue.record("Mali walk") }
    }

    @Test func v7sDescriptors() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_V7S, pageSizes: SZ_4K | SZ_64K | SZ_1M | SZ_16M, ias: 32, oas: 32, memory: memory))
        defer { t.close() }
        let cfg = t.cfg.pointee
        let l1pa = UInt64(cfg.arm_v7s_cfg.ttbr & ~0x3fff)
        // TTBR: the 16 KiB level-1 table below 4 GiB | S (bit 1) | NOS (5) | IRGN WBWA (bit 6) | ORGN WBWA (0b01 << 3).
        #expect(cfg.arm_v7s_cfg.ttbr & 0x3fff == 0x6a && l1pa < 1 << 32)
        // PRRR: TR1 device, TR4 and TR7 normal, DS0, DS1, NS1, NOS7. NMRR: IR7 and OR7 write-back write-allocate.
        #expect(cfg.arm_v7s_cfg.prrr == 0x800b_8204 && cfg.arm_v7s_cfg.nmrr == 0x4000_4000 && cfg.arm_v7s_cfg.tcr == 0)

        // 4K small page, R|W|CACHE|NOEXEC: the attribute byte nG (7) | S (6) | TEX 0b001 << 2 | AP[1] (1) | AP[0]
        // as AF (0) = 0xc7, shifted to [11:4] = 0xc70, | XN (bit 0) | C (3) | B (2) | 0b10 small page = 0xc7f.
        #expect(t.map(0x1000, 0x2000_0000, SZ_4K, prot: R | W | CACHE | NOEXEC) == 0)
        let l1e = entry32(memory, l1pa, 0)
        #expect(l1e & 0x3ff == 0x1, "a level-1 page-table descriptor: 0b01, the 1 KiB table's address in [31:10]")
        let l2pa = UInt64(l1e & ~0x3ff)
        #expect(entry32(memory, l2pa, 1) == 0x2000_0c7f)

        // 64K large page, same prot: 16 identical entries; XN moves to bit 15, TEX to [14:12], type 0b01:
        //   0xc7f ^ (XN | TEX[0] at bit 6 | 0b10) | 1 << 15 | 1 << 12 | 0b01 = 0x9c3d.
        #expect(t.map(0x1_0000, 0x2001_0000, SZ_64K, prot: R | W | CACHE | NOEXEC) == 0)
        for i in 16..<32 { #expect(entry32(memory, l2pa, i) == 0x2001_9c3d) }

        // 1M section, read-only: attribute byte 0xc7 | AP[2] (5) = 0xe7 at [17:10] = 0x39c00 | 0b10 = 0x39c02.
        #expect(t.map(0x10_0000, 0x3000_0000, SZ_1M, prot: R) == 0)
        #expect(entry32(memory, l1pa, 1) == 0x3003_9c02)

        // 16M supersection, R|W: 0xc7 << 10 | 0b10 | bit 18 = 0x71c02, in 16 identical entries.
        #expect(t.map(0x100_0000, 0x4000_0000, SZ_16M, prot: R | W) == 0)
        for i in 16..<32 { #expect(entry32(memory, l1pa, i) == 0x4007_1c02) }

        // MMIO section: TEX 0 (attribute byte 0xc3) and B: 0x30c00 | B | 0b10 = 0x30c06.
        #expect(t.map(0x20_0000, 0x5000_0000, SZ_1M, prot: R | W | MMIO) == 0)
        #expect(entry32(memory, l1pa, 2) == 0x5003_0c06)

        // The walker decodes them: sizes, the access flag in AP[0], TEX remap through PRRR/NMRR.
        if case .success(let w) = t.translate(0x1_2345, .read) {
            #expect(w.phys == 0x2001_2345 && w.size == SZ_64K && w.level == 2 && w.prot == [.read, .write, .noExec, .cache])
        } else { Issue.record("large page walk") }
        if case .success(let w) = t.translate(0x1ab_cdef, .write) {
            #expect(w.phys == 0x40ab_cdef && w.size == SZ_16M && w.level == 1)
        } else { Issue.record("supersection walk") }
        if case .failure(let f) = t.translate(0x10_0000, .write) { #expect(f.kind == .permission && f.level == 1) }
        else { Issue.record("write to a read-only section") }
        if case .success(let w) = t.translate(0x20_0000) { #expect(w.prot.contains(.mmio)) } else { Issue.record("MMIO walk") }
    }

    @Test func v7sQuirks() throws {
        let memory = try makeMemory()
        // ARM_NS: NS_TABLE (bit 3) in level-1 table descriptors, NS_SECTION (bit 19) in sections.
        let ns = try #require(makeTable(ARM_V7S, pageSizes: SZ_4K | SZ_1M, ias: 32, oas: 32, quirks: PageTableQuirk.armNS,
                                        memory: memory))
        #expect(ns.map(0x10_0000, 0x3000_0000, SZ_1M, prot: R) == 0)
        #expect(ns.map(0x1000, 0x2000, SZ_4K, prot: R) == 0)
        let l1pa = UInt64(ns.cfg.pointee.arm_v7s_cfg.ttbr & ~0x3fff)
        #expect(entry32(memory, l1pa, 1) == 0x300b_9c02)
        #expect(entry32(memory, l1pa, 0) & 0x3ff == 0x9)
        ns.close()

        // MTK_EXT with NO_PERMS: no AP or XN bits (attribute byte nG | S | TEX 1 = 0xc4), PA[32] in bit 9.
        let mtk = try #require(makeTable(ARM_V7S, pageSizes: SZ_4K | SZ_1M, ias: 32, oas: 35,
                                         quirks: PageTableQuirk.armMTKExt | PageTableQuirk.noPerms, memory: memory))
        #expect(mtk.map(0x1000, 0x1_2345_6000, SZ_4K, prot: R | W) == 0)
        let mtkL1 = UInt64(mtk.cfg.pointee.arm_v7s_cfg.ttbr & ~0x7f) | (UInt64(mtk.cfg.pointee.arm_v7s_cfg.ttbr & 7) << 32)
        let l2 = UInt64(entry32(memory, mtkL1, 0) & ~0x3ff)
        #expect(entry32(memory, l2, 1) == 0x2345_6e42)
        #expect(mtk.phys(0x1234) == 0x1_2345_6234)
        if case .success(let w) = mtk.translate(0x1234, .write) { #expect(w.phys == 0x1_2345_6234) } else { Issue.record("MTK walk") }
        // Sections carry PA[34:32] in bits 9, 4 and 5 as well.
        #expect(mtk.map(0x10_0000, 0x6_0010_0000, SZ_1M, prot: R) == 0)
        #expect(entry32(memory, mtkL1, 1) & 0x230 == 0x30)
        #expect(mtk.phys(0x10_0010) == 0x6_0010_0010)
        mtk.close()
        // MTK_EXT needs NO_PERMS; MTK_TTBR_EXT needs MTK_EXT.
        #expect(makeTable(ARM_V7S, pageSizes: SZ_4K, ias: 32, oas: 35, quirks: PageTableQuirk.armMTKExt, memory: memory) == nil)
        #expect(makeTable(ARM_V7S, pageSizes: SZ_4K, ias: 32, oas: 32, quirks: PageTableQuirk.armMTKTTBRExt, memory: memory) == nil)
    }

    @Test func dartDescriptors() throws {
        let memory = try makeMemory()
        // DART1: PA[35:12] in place, SP_DIS (bit 1), NO_WRITE (7), NO_READ (8), VALID (0), and the whole page as
        // sub-page range: SUBPAGE_START [63:52] = 0, SUBPAGE_END [51:40] = 0xfff.
        let d1 = try #require(makeTable(APPLE_DART, pageSizes: SZ_16K, ias: 32, oas: 36, memory: memory))
        #expect(d1.cfg.pointee.apple_dart_cfg.n_ttbrs == 1)
        let ttbr = d1.cfg.pointee.apple_dart_cfg.ttbr.0
        #expect(d1.map(0x4000, 0x8_0000_4000, SZ_16K, prot: R | W) == 0)
        #expect(d1.map(0x8000, 0x8_0000_8000, SZ_16K, prot: R) == 0)
        let l1 = entry64(memory, ttbr, 0)
        #expect(l1 & 0xfff == 1, "a table descriptor: the level-2 table's PA | VALID")
        let l2 = l1 & 0xf_ffff_f000
        #expect(entry64(memory, l2, 1) == 0x000f_ff08_0000_4003)
        #expect(entry64(memory, l2, 2) == 0x000f_ff08_0000_8083)
        if case .failure(let f) = d1.translate(0x8000, .write) { #expect(f.kind == .permission && f.level == 2) } else { Issue.record("DART1") }
        d1.close()

        // DART2: PA >> 4 in [37:10], NO_CACHE (1), NO_WRITE (2), NO_READ (3).
        let d2 = try #require(makeTable(APPLE_DART2, pageSizes: SZ_16K, ias: 32, oas: 42, memory: memory))
        #expect(d2.map(0x4000, 0x8_0000_4000, SZ_16K, prot: R | W) == 0)
        #expect(d2.map(0x8000, 0x8_0000_8000, SZ_16K, prot: R | W | CACHE) == 0)
        #expect(d2.map(0xc000, 0x8_0000_c000, SZ_16K, prot: W) == 0)
        let t2 = entry64(memory, d2.cfg.pointee.apple_dart_cfg.ttbr.0, 0)
        let l2b = (t2 & 0x3f_ffff_fc00) << 4
        #expect(t2 & 1 == 1)
        #expect(entry64(memory, l2b, 1) == 0x000f_ff00_8000_0403)
        #expect(entry64(memory, l2b, 2) == 0x000f_ff00_8000_0801)
        #expect(entry64(memory, l2b, 3) == 0x000f_ff00_8000_0c0b)
        if case .success(let w) = d2.translate(0x8123, .read) { #expect(w.phys == 0x8_0000_8123 && w.prot == [.read, .write, .cache]) }
        else { Issue.record("DART2 walk") }
        if case .failure(let f) = d2.translate(0xc000, .read) { #expect(f.kind == .permission) } else { Issue.record("DART2 no-read") }
        d2.close()

        // 4K pages over a 32-bit space need four TTBRs (two bits above the two levels).
        let d4 = try #require(makeTable(APPLE_DART, pageSizes: SZ_4K, ias: 32, oas: 36, memory: memory))
        #expect(d4.cfg.pointee.apple_dart_cfg.n_ttbrs == 4)
        // DART2 cannot describe 4K pages (PA[41:14] only).
        #expect(makeTable(APPLE_DART2, pageSizes: SZ_4K, ias: 32, oas: 42, memory: memory) == nil)
        #expect(d4.map(0xc000_0000, 0x1000, SZ_4K, prot: R) == 0)
        #expect(entry64(memory, d4.cfg.pointee.apple_dart_cfg.ttbr.3, 0) & 1 == 1, "IOVA bits [31:30] select TTBR3")
        d4.close()
    }

    @Test func swiftConstantsMatchTheHeaders() {
        #expect(IOMMUProt.read.rawValue == IOMMU_READ && IOMMUProt.write.rawValue == IOMMU_WRITE)
        #expect(IOMMUProt.cache.rawValue == IOMMU_CACHE && IOMMUProt.noExec.rawValue == IOMMU_NOEXEC)
        #expect(IOMMUProt.mmio.rawValue == IOMMU_MMIO && IOMMUProt.priv.rawValue == IOMMU_PRIV)
        #expect(WalkAccess.read.rawValue == SWIOMMU_PGTABLE_ACCESS_READ && WalkAccess.write.rawValue == SWIOMMU_PGTABLE_ACCESS_WRITE)
        #expect(WalkAccess.exec.rawValue == SWIOMMU_PGTABLE_ACCESS_EXEC && WalkAccess.privileged.rawValue == SWIOMMU_PGTABLE_ACCESS_PRIV)
        #expect(WalkFaultKind.translation.rawValue == Int32(SWIOMMU_PGTABLE_FAULT_TRANSLATION.rawValue))
        #expect(WalkFaultKind.permission.rawValue == Int32(SWIOMMU_PGTABLE_FAULT_PERMISSION.rawValue))
        #expect(WalkFaultKind.addressSize.rawValue == Int32(SWIOMMU_PGTABLE_FAULT_ADDRESS_SIZE.rawValue))
        #expect(WalkFaultKind.accessFlag.rawValue == Int32(SWIOMMU_PGTABLE_FAULT_ACCESS_FLAG.rawValue))
        #expect(WalkFaultKind.external.rawValue == Int32(SWIOMMU_PGTABLE_FAULT_EXTERNAL.rawValue))
    }

    @Test func dumpDescribesTheLayout() throws {
        let memory = try makeMemory()
        let t = try #require(makeTable(ARM_64_LPAE_S1, pageSizes: SZ_4K | SZ_2M | SZ_1G, ias: 48, oas: 48, memory: memory))
        defer { t.close() }
        #expect(t.map(0x4020_1000, 0x4000_0000, SZ_4K, prot: R | W | CACHE | NOEXEC) == 0)
        #expect(t.map(0x4040_0000, 0x8000_0000, SZ_2M, prot: R) == 0)
        let text = t.table.dump()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6, "header, L0, L1, L2 table, L2 block, L3 page:\n\(text)")
        #expect(lines[0].hasPrefix("ARM_64_LPAE_S1: ias 48, oas 48, granule 4K, levels 0-3"))
        #expect(lines[1].hasPrefix("L0[000] 0x0000000000000000-0x0000007fffffffff ") && lines[1].contains("table ->"))
        #expect(lines.contains { $0.hasPrefix("      L3[001] 0x0000000040201000-0x0000000040201fff 0x0060000040000f47 page -> 0x40000000 rw unpriv attr1 xn") })
        #expect(lines.contains { $0.hasPrefix("    L2[002] 0x0000000040400000-0x00000000405fffff 0x0000000080000ec1 block -> 0x80000000 ro") })
    }
}
