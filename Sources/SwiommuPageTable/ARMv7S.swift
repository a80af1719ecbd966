// The ARMv7 short-descriptor format (VMSAv7, TEX remap, the AP[2:1] permission model): 4K small pages,
// 64K large pages, 1M sections and 16M supersections over a 32-bit IOVA, with MediaTek's PA extension.
// Kernel: drivers/iommu/io-pgtable-arm-v7s.c.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// Descriptor and register bits. Kernel: the `ARM_V7S_*` macros; the Arm ARM (DDI 0406C) B3.5.1
/// "Short-descriptor translation table format descriptors".
enum V7S {
    static let addressBits: UInt32 = 32
    static let tableShift = 10
    static let contPages = 16

    // Type bits [1:0]: L1 0b01 table, 0b1x section; L2 0b01 large page, 0b1x small page.
    static let typeTable: UInt32 = 0x1
    static let typePage: UInt32 = 0x2
    static let typeContPage: UInt32 = 0x1

    static let attrB: UInt32 = 1 << 2
    static let attrC: UInt32 = 1 << 3
    static let nsTable: UInt32 = 1 << 3
    static let nsSection: UInt32 = 1 << 19
    static let contSection: UInt32 = 1 << 18      // supersection
    static let contPageXNShift: UInt32 = 15

    // The attribute byte (bits [17:10] of an L1 entry, [11:4] of an L2 entry).
    static let attrAP0: UInt32 = 1 << 0           // used as the access flag (SCTLR.AFE)
    static let attrAP1: UInt32 = 1 << 1           // unprivileged access
    static let attrAP2: UInt32 = 1 << 5           // read-only
    static let attrS: UInt32 = 1 << 6
    static let attrNG: UInt32 = 1 << 7
    static let texShift: UInt32 = 2
    static let texMask: UInt32 = 0x7
    static let contPageTexShift: UInt32 = 6
    static let contPageTexMask: UInt32 = texMask << contPageTexShift

    // MediaTek's PA bits 32, 33 and 34.
    static let mtkPABit32: UInt32 = 1 << 9
    static let mtkPABit33: UInt32 = 1 << 4
    static let mtkPABit34: UInt32 = 1 << 5

    // Registers.
    static let rgnNC: UInt32 = 0, rgnWBWA: UInt32 = 1
    static let prrrTypeDevice: UInt32 = 1, prrrTypeNormal: UInt32 = 2
    static func prrrTR(_ n: UInt32, _ type: UInt32) -> UInt32 { (type & 0x3) << (n * 2) }
    static let prrrDS0: UInt32 = 1 << 16, prrrDS1: UInt32 = 1 << 17, prrrNS0: UInt32 = 1 << 18, prrrNS1: UInt32 = 1 << 19
    static func prrrNOS(_ n: UInt32) -> UInt32 { 1 << (n + 24) }
    static func nmrrIR(_ n: UInt32, _ attr: UInt32) -> UInt32 { (attr & 0x3) << (n * 2) }
    static func nmrrOR(_ n: UInt32, _ attr: UInt32) -> UInt32 { (attr & 0x3) << (n * 2 + 16) }
    static let ttbrS: UInt32 = 1 << 1
    static let ttbrNOS: UInt32 = 1 << 5
    static func ttbrORGN(_ attr: UInt32) -> UInt32 { (attr & 0x3) << 3 }
    static func ttbrIRGN(_ attr: UInt32) -> UInt32 { ((attr & 0x1) << 6) | ((attr & 0x2) >> 1) }

    @inline(__always) static func levelShift(_ level: Int) -> Int { level == 1 ? 20 : 12 }
    @inline(__always) static func levelMask(_ level: Int) -> UInt32 { ~UInt32(0) << UInt32(levelShift(level)) }
    /// XN: bit 4 of a section, bit 0 of a small page.
    @inline(__always) static func attrXN(_ level: Int) -> UInt32 { 1 << UInt32(4 * (2 - level)) }
    @inline(__always) static func attrShift(_ level: Int) -> UInt32 { UInt32(16 - level * 6) }
    @inline(__always) static func isValid(_ pte: UInt32) -> Bool { pte & 0x3 != 0 }
    @inline(__always) static func isTable(_ pte: UInt32, _ level: Int) -> Bool { level == 1 && pte & 0x3 == typeTable }
}

/// An ARMv7 short-descriptor table. Kernel: `struct arm_v7s_io_pgtable`.
public final class ARMv7STable: PageTableFormat {
    let context: TableContext
    let quirks: UInt
    let ias: UInt32
    let oas: UInt32
    let pageSizes: UInt64
    let mtk: Bool
    let l1Entries: Int
    let pgdPA: UInt64
    let pgd: UnsafeMutableRawPointer
    let pgdBytes: Int
    static let l2Entries = 256
    static let l2Bytes = 256 * 4

    @inline(__always) func entries(_ level: Int) -> Int { level == 1 ? l1Entries : Self.l2Entries }

    /// Kernel: `ARM_V7S_LVL_IDX`.
    @inline(__always) func index(_ iova: UInt64, _ level: Int) -> Int {
        Int(truncatingIfNeeded: (iova >> UInt64(V7S.levelShift(level))) & UInt64(entries(level) - 1))
    }

    /// Kernel: `to_mtk_iopte`.
    @inline(__always) static func mtkBits(_ pa: UInt64, _ pte: UInt32) -> UInt32 {
        var pte = pte
        if pa & (1 << 32) != 0 { pte |= V7S.mtkPABit32 }
        if pa & (1 << 33) != 0 { pte |= V7S.mtkPABit33 }
        if pa & (1 << 34) != 0 { pte |= V7S.mtkPABit34 }
        return pte
    }

    /// Kernel: `paddr_to_iopte`.
    @inline(__always) func paddrToPTE(_ pa: UInt64, _ level: Int) -> UInt32 {
        let pte = UInt32(truncatingIfNeeded: pa) & V7S.levelMask(level)
        return mtk ? Self.mtkBits(pa, pte) : pte
    }

    /// Kernel: `arm_v7s_pte_is_cont`.
    @inline(__always) static func isCont(_ pte: UInt32, _ level: Int) -> Bool {
        if level == 1 && !V7S.isTable(pte, level) { return pte & V7S.contSection != 0 }
        if level == 2 { return pte & V7S.typePage == 0 }
        return false
    }

    /// Kernel: `iopte_to_paddr`.
    @inline(__always) func pteToPaddr(_ pte: UInt32, _ level: Int) -> UInt64 {
        let mask: UInt32
        if V7S.isTable(pte, level) {
            mask = ~UInt32(0) << UInt32(V7S.tableShift)
        } else if Self.isCont(pte, level) {
            mask = V7S.levelMask(level) &* UInt32(V7S.contPages)
        } else {
            mask = V7S.levelMask(level)
        }
        var pa = UInt64(pte & mask)
        guard mtk else { return pa }
        if pte & V7S.mtkPABit32 != 0 { pa |= 1 << 32 }
        if pte & V7S.mtkPABit33 != 0 { pa |= 1 << 33 }
        if pte & V7S.mtkPABit34 != 0 { pa |= 1 << 34 }
        return pa
    }

    // MARK: Allocation. Kernel: arm_v7s_alloc_pgtable.

    init(format fmt: io_pgtable_fmt, config cfg: inout io_pgtable_cfg, context: TableContext) throws(Errno) {
        let mtk = cfg.quirks & PageTableQuirk.armMTKExt != 0
        guard cfg.ias <= (mtk ? 34 : V7S.addressBits) else { throw .invalid }
        guard cfg.oas <= (mtk ? 35 : V7S.addressBits) else { throw .invalid }
        let known = PageTableQuirk.armNS | PageTableQuirk.noPerms | PageTableQuirk.armMTKExt | PageTableQuirk.armMTKTTBRExt
        guard cfg.quirks & ~known == 0 else { throw .invalid }
        // If ARM_MTK_4GB is enabled, the NO_PERMS is also expected.
        guard !mtk || cfg.quirks & PageTableQuirk.noPerms != 0 else { throw .invalid }
        guard cfg.quirks & PageTableQuirk.armMTKTTBRExt == 0 || mtk else { throw .invalid }
        // Linux computes a negative level-1 size below 1 MiB of IOVA; swiommu refuses.
        guard cfg.ias >= 20 else { throw .invalid }

        // Unless the IOMMU driver indicates supersection support by having SZ_16M set in the initial bitmap,
        // they won't be used.
        cfg.pgsize_bitmap &= UInt(Size.k4 | Size.k64 | Size.m1 | Size.m16)
        // TCR: T0SZ=0, EAE=0 (if applicable).
        cfg.arm_v7s_cfg.tcr = 0
        // TEX remap: the indices used map to the closest equivalent types under the non-TEX-remap
        // interpretation of those attribute bits.
        cfg.arm_v7s_cfg.prrr = V7S.prrrTR(1, V7S.prrrTypeDevice) | V7S.prrrTR(4, V7S.prrrTypeNormal)
            | V7S.prrrTR(7, V7S.prrrTypeNormal) | V7S.prrrDS0 | V7S.prrrDS1 | V7S.prrrNS1 | V7S.prrrNOS(7)
        cfg.arm_v7s_cfg.nmrr = V7S.nmrrIR(7, V7S.rgnWBWA) | V7S.nmrrOR(7, V7S.rgnWBWA)

        // The L1 table comes from ZONE_DMA32 so its address fits the 32-bit TTBR, unless MTK_TTBR_EXT.
        let ttbrExt = cfg.quirks & PageTableQuirk.armMTKTTBRExt != 0
        let l1Entries = 1 << Int(cfg.ias - 20)
        let bytes = l1Entries * 4
        guard let (pa, pointer) = context.allocateTable(bytes: bytes, gfp: ttbrExt ? .kernel : .dma32,
                                                        site: PageTableSite.v7sTable) else { throw .noMemory }
        guard ttbrExt ? pa < 1 << UInt64(cfg.oas) : pa == UInt64(UInt32(truncatingIfNeeded: pa)) else {
            Kernel.log(.error, "arm-v7s io-pgtable: Page table does not fit in PTE: \(Kernel.hex(pa))")
            context.freeTable(pa: pa, pointer: pointer, bytes: bytes)
            throw .noMemory
        }
        swiommu_pgt_wmb()
        if mtk {
            cfg.arm_v7s_cfg.ttbr = UInt32(truncatingIfNeeded: pa) | UInt32(truncatingIfNeeded: pa >> 32)
        } else {
            cfg.arm_v7s_cfg.ttbr = UInt32(truncatingIfNeeded: pa) | V7S.ttbrS
                | (cfg.coherent_walk ? (V7S.ttbrNOS | V7S.ttbrIRGN(V7S.rgnWBWA) | V7S.ttbrORGN(V7S.rgnWBWA))
                                     : (V7S.ttbrIRGN(V7S.rgnNC) | V7S.ttbrORGN(V7S.rgnNC)))
        }
        var context = context
        context.preferBank(of: pa)
        self.context = context
        quirks = cfg.quirks
        ias = cfg.ias
        oas = cfg.oas
        pageSizes = UInt64(cfg.pgsize_bitmap)
        self.mtk = mtk
        self.l1Entries = l1Entries
        pgdPA = pa
        pgd = pointer
        pgdBytes = bytes
    }

    // MARK: Protection. Kernel: arm_v7s_prot_to_pte, arm_v7s_pte_to_cont.

    func protToPTE(_ prot: Int32, _ level: Int) -> UInt32 {
        let ap = quirks & PageTableQuirk.noPerms == 0
        var pte = V7S.attrNG | V7S.attrS
        if prot & IOMMUProt.mmio.rawValue == 0 { pte |= (1 & V7S.texMask) << V7S.texShift }
        if ap {
            pte |= V7S.attrAP0
            if prot & IOMMUProt.priv.rawValue == 0 { pte |= V7S.attrAP1 }
            if prot & IOMMUProt.write.rawValue == 0 { pte |= V7S.attrAP2 }
        }
        pte <<= V7S.attrShift(level)
        if prot & IOMMUProt.noExec.rawValue != 0 && ap { pte |= V7S.attrXN(level) }
        if prot & IOMMUProt.mmio.rawValue != 0 {
            pte |= V7S.attrB
        } else if prot & IOMMUProt.cache.rawValue != 0 {
            pte |= V7S.attrB | V7S.attrC
        }
        pte |= V7S.typePage
        if level == 1 && quirks & PageTableQuirk.armNS != 0 { pte |= V7S.nsSection }
        return pte
    }

    static func toCont(_ pte: UInt32, _ level: Int) -> UInt32 {
        var pte = pte
        if level == 1 {
            pte |= V7S.contSection
        } else {
            let xn = pte & V7S.attrXN(level)
            let tex = pte & V7S.contPageTexMask
            pte ^= xn | tex | V7S.typePage
            pte |= (xn << V7S.contPageXNShift) | (tex << V7S.contPageTexShift) | V7S.typeContPage
        }
        return pte
    }

    /// Linux 6.6-6.12, for splitting. Kernel: `arm_v7s_cont_to_pte`.
    static func fromCont(_ pte: UInt32, _ level: Int) -> UInt32 {
        var pte = pte
        if level == 1 {
            pte &= ~V7S.contSection
        } else {
            let xn = pte & (1 << V7S.contPageXNShift)
            let tex = pte & (V7S.contPageTexMask << V7S.contPageTexShift)
            pte ^= xn | tex | V7S.typeContPage
            pte |= (xn >> V7S.contPageXNShift) | (tex >> V7S.contPageTexShift) | V7S.typePage
        }
        return pte
    }

    /// Linux 6.6-6.12, for splitting. Kernel: `arm_v7s_pte_to_prot`.
    static func pteToProt(_ pte: UInt32, _ level: Int) -> Int32 {
        var prot = IOMMUProt.read.rawValue
        let attr = pte >> V7S.attrShift(level)
        if attr & V7S.attrAP2 == 0 { prot |= IOMMUProt.write.rawValue }
        if attr & V7S.attrAP1 == 0 { prot |= IOMMUProt.priv.rawValue }
        if attr & (V7S.texMask << V7S.texShift) == 0 {
            prot |= IOMMUProt.mmio.rawValue
        } else if pte & V7S.attrC != 0 {
            prot |= IOMMUProt.cache.rawValue
        }
        if pte & V7S.attrXN(level) != 0 { prot |= IOMMUProt.noExec.rawValue }
        return prot
    }

    // MARK: map. Kernel: arm_v7s_map_pages, __arm_v7s_map, arm_v7s_init_pte.

    func map(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, pageSize: UInt64,
                      count: Int, prot: Int32, gfp: GFP, mapped: inout Int) throws(Errno) {
        guard iova < 1 << UInt64(ias) && paddr < 1 << UInt64(oas) else {
            coldWarn("arm_v7s_map_pages: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) out of range "
                        + "(ias \(ias), oas \(oas))")
            throw .range
        }
        guard prot & (IOMMUProt.read.rawValue | IOMMUProt.write.rawValue) != 0 else { throw .invalid }
        // Linux maps nothing and returns -EINVAL for no pages.
        guard count > 0 else { throw .invalid }
        // Checked by Linux's iommu core, not by io-pgtable-arm-v7s.c: the size, the alignment, and the end of
        // the range (pages past ias would wrap around to IOVA 0).
        guard pageSize & pageSizes == pageSize && pageSize != 0 && pageSize & (pageSize &- 1) == 0 else {
            coldWarn("arm_v7s_map_pages: page size \(Kernel.hex(pageSize)) is not one of \(Kernel.hex(pageSizes))")
            throw .invalid
        }
        guard (iova | paddr) & (pageSize &- 1) == 0 else {
            coldWarn("arm_v7s_map_pages: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) "
                        + "not aligned to \(Kernel.hex(pageSize))")
            throw .invalid
        }
        guard UInt64(count) <= ((1 << UInt64(ias)) - iova) / pageSize else {
            coldWarn("arm_v7s_map_pages: \(count) pages from \(Kernel.hex(iova)) pass the end of the IOVA space")
            throw .range
        }
        defer { swiommu_pgt_wmb() }
        var iova = iova
        var paddr = paddr
        for _ in 0..<count {
            try mapOne(iova: iova, paddr: paddr, size: pageSize, prot: prot, gfp: gfp, iop: iop)
            iova &+= pageSize
            paddr &+= pageSize
            mapped &+= Int(pageSize)
        }
    }

    private func mapOne(iova: UInt64, paddr: UInt64, size: UInt64, prot: Int32, gfp: GFP,
                                 iop: UnsafeMutablePointer<io_pgtable>) throws(Errno) {
        var level = 1
        var table = pgd
        var tablePA = pgdPA
        while true {
            let n = Int(size >> UInt64(V7S.levelShift(level)))
            let idx = index(iova, level)
            let ptep = table.assumingMemoryBound(to: UInt32.self) + idx
            let ptepPA = tablePA &+ UInt64(idx &<< 2)
            // If we can install a leaf entry at this level, then do so.
            if n > 0 {
                try initPTEs(iop, iova: iova, paddr: paddr, prot: prot, level: level, count: n, ptep: ptep,
                             ptepPA: ptepPA, table: table, tablePA: tablePA)
                return
            }
            // We can't allocate tables at the final level.
            guard level == 1 else {
                coldWarn("arm_v7s_map_pages: no level maps \(Kernel.hex(size))")
                throw .invalid
            }
            var pte = swiommu_pgt_load32_acquire(ptep)
            var next: UnsafeMutableRawPointer? = nil
            var nextPA: UInt64 = 0
            if pte == 0 {
                guard let (pa, pointer) = allocateL2(gfp: gfp) else { throw .noMemory }
                pte = installTable(pa, ptep: ptep, ptepPA: ptepPA, expected: 0)
                if pte != 0 {
                    freeL2(pointer)
                } else {
                    next = pointer
                    nextPA = pa
                }
            } else if !context.coherent {
                // We've no easy way of knowing if it's synced yet, so...
                context.clean(ptepPA, bytes: 4)
            }
            if V7S.isTable(pte, level) {
                nextPA = pteToPaddr(pte, level)
                next = context.pointer(nextPA)
            } else if pte != 0 {
                // We require an unmap first.
                coldWarn("arm_v7s_map_pages: iova \(Kernel.hex(iova)) lies in a mapped section")
                throw .exists
            }
            guard let next else {
                coldWarn("arm_v7s_map_pages: table entry \(Kernel.hex(pte)) points outside RAM (corrupted table)")
                throw .fault
            }
            table = next
            tablePA = nextPA
            level = 2
        }
    }

    /// Linux checks entry by entry and may free tables before it finds a mapping further on; swiommu checks
    /// every entry first, so a refused map changes nothing.
    private func initPTEs(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, prot: Int32,
                                   level: Int, count: Int, ptep: UnsafeMutablePointer<UInt32>, ptepPA: UInt64,
                                   table: UnsafeMutableRawPointer, tablePA: UInt64) throws(Errno) {
        var tables = false
        for i in 0..<count {
            if V7S.isTable(ptep[i], level) {
                tables = true
            } else if ptep[i] != 0 {
                // We require an unmap first.
                coldWarn("arm_v7s_map_pages: iova \(Kernel.hex(iova)) is already mapped")
                throw .exists
            }
        }
        if tables {
            // We need to unmap and free the old table before overwriting it with a block entry.
            let size = UInt64(1) << UInt64(V7S.levelShift(level))
            for i in 0..<count where V7S.isTable(ptep[i], level) {
                guard unmapOne(iop, gather: nil, iova: iova &+ UInt64(i) &* size, size: size, level: level, table: table,
                               tablePA: tablePA) == size else {
                    coldWarn("arm_v7s_map_pages: could not replace the table at \(Kernel.hex(iova))")
                    throw .invalid
                }
            }
        }
        var pte = protToPTE(prot, level)
        if count > 1 { pte = Self.toCont(pte, level) }
        pte |= paddrToPTE(paddr, level)
        setPTEs(ptep, pte, count: count, pa: ptepPA)
    }

    /// Kernel: `__arm_v7s_set_pte`.
    @inline(__always)
    private func setPTEs(_ ptep: UnsafeMutablePointer<UInt32>, _ pte: UInt32, count: Int, pa: UInt64) {
        for i in 0..<count { ptep[i] = pte }
        if !context.coherent { context.clean(pa, bytes: count << 2) }
    }

    /// Kernel: `arm_v7s_install_table`.
    private func installTable(_ tablePA: UInt64, ptep: UnsafeMutablePointer<UInt32>, ptepPA: UInt64,
                                       expected: UInt32) -> UInt32 {
        var new = UInt32(truncatingIfNeeded: tablePA) | V7S.typeTable
        if quirks & PageTableQuirk.armMTKTTBRExt != 0 { new = Self.mtkBits(tablePA, new) }
        if quirks & PageTableQuirk.armNS != 0 { new |= V7S.nsTable }
        // Ensure the table itself is visible before its PTE can be.
        swiommu_pgt_wmb()
        let old = swiommu_pgt_cmpxchg32(ptep, expected, new)
        if !context.coherent { context.clean(ptepPA, bytes: 4) }
        return old
    }

    /// A level-2 table: 1 KiB from kmalloc below 4 GiB (above, with MTK_TTBR_EXT). Kernel:
    /// `__arm_v7s_alloc_table(2, ...)`.
    private func allocateL2(gfp: GFP) -> (UInt64, UnsafeMutableRawPointer)? {
        let anywhere = quirks & PageTableQuirk.armMTKTTBRExt != 0
        guard let (pa, pointer) = context.allocateSmallTable(bytes: Self.l2Bytes, gfp: gfp, anywhere: anywhere,
                                                             site: PageTableSite.v7sTable) else { return nil }
        guard anywhere ? pa < 1 << UInt64(oas) : pa == UInt64(UInt32(truncatingIfNeeded: pa)) else {
            Kernel.log(.error, "arm-v7s io-pgtable: Page table does not fit in PTE: \(Kernel.hex(pa))")
            freeL2(pointer)
            return nil
        }
        return (pa, pointer)
    }

    private func freeL2(_ pointer: UnsafeMutableRawPointer) {
        context.freeSmallTable(pointer: pointer, bytes: Self.l2Bytes)
    }

    // MARK: unmap. Kernel: arm_v7s_unmap_pages, __arm_v7s_unmap.

    func unmap(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, pageSize: UInt64, count: Int,
                        gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> UInt64 {
        guard iova < 1 << UInt64(ias) else {
            coldWarn("arm_v7s_unmap_pages: iova \(Kernel.hex(iova)) out of range (ias \(ias))")
            return 0
        }
        // Checked by Linux's iommu core, not here: a size of the table and an aligned iova.
        guard pageSize & pageSizes == pageSize && pageSize != 0 && pageSize & (pageSize &- 1) == 0 else {
            coldWarn("arm_v7s_unmap_pages: page size \(Kernel.hex(pageSize)) is not one of \(Kernel.hex(pageSizes))")
            return 0
        }
        guard iova & (pageSize &- 1) == 0 else {
            coldWarn("arm_v7s_unmap_pages: iova \(Kernel.hex(iova)) not aligned to \(Kernel.hex(pageSize))")
            return 0
        }
        var unmapped: UInt64 = 0
        var iova = iova
        for _ in 0..<count {
            guard iova < 1 << UInt64(ias) else { break }
            let done = unmapOne(iop, gather: gather, iova: iova, size: pageSize, level: 1, table: pgd, tablePA: pgdPA)
            if done == 0 { break }
            unmapped &+= pageSize
            iova &+= pageSize
        }
        return unmapped
    }

    private func unmapOne(_ iop: UnsafeMutablePointer<io_pgtable>, gather: UnsafeMutablePointer<iommu_iotlb_gather>?,
                                   iova: UInt64, size: UInt64, level startLevel: Int, table startTable: UnsafeMutableRawPointer,
                                   tablePA startTablePA: UInt64) -> UInt64 {
        var level = startLevel
        var table = startTable
        var tablePA = startTablePA
        while true {
            // Something went horribly wrong and we ran out of page table.
            guard level <= 2 else {
                coldWarn("arm_v7s_unmap_pages: ran out of page table")
                return 0
            }
            let idx = index(iova, level)
            let ptep = table.assumingMemoryBound(to: UInt32.self) + idx
            let ptepPA = tablePA &+ UInt64(idx &<< 2)
            let n = Int(size >> UInt64(V7S.levelShift(level)))
            for i in 0..<max(n, 1) where !V7S.isValid(ptep[i]) {
                coldWarn("arm_v7s_unmap_pages: iova \(Kernel.hex(iova)) is not mapped")
                return 0
            }
            var first = swiommu_pgt_load32_acquire(ptep)
            // A contiguous 'large page' entry at this level needs splitting first, unless we're unmapping the
            // whole lot.
            if n <= 1 && Self.isCont(first, level) {
                guard context.splitBlocks else {
                    partialUnmapWarnV7S.warn("Unmap of a partial large IOPTE is not allowed")
                    return 0
                }
                first = splitCont(iop, iova: iova, index: idx, level: level, ptep: ptep, ptepPA: ptepPA)
            }
            // If the size matches this level, we're in the right place.
            if n > 0 {
                let blockSize = UInt64(1) << UInt64(V7S.levelShift(level))
                return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: V7S.contPages) { old in
                    for i in 0..<n { old[i] = ptep[i] }
                    setPTEs(ptep, 0, count: n, pa: ptepPA)
                    var at = iova
                    for i in 0..<n {
                        if V7S.isTable(old[i], level) {
                            // Also flush any partial walks.
                            Flush.walk(iop, iova: at, size: blockSize, granule: 1 << UInt64(V7S.levelShift(level + 1)))
                            if let p = context.pointer(pteToPaddr(old[i], level)) { freeL2(p) }
                        } else if !(gather?.pointee.queued ?? false) {
                            Flush.addPage(iop, gather: gather, iova: at, granule: blockSize)
                        }
                        at &+= blockSize
                    }
                    return size
                }
            } else if level == 1 && !V7S.isTable(first, level) {
                guard context.splitBlocks else {
                    partialUnmapWarnV7S.warn("Unmap of a partial large IOPTE is not allowed")
                    return 0
                }
                return splitBlockUnmap(iop, gather: gather, iova: iova, size: size, ptep: ptep, ptepPA: ptepPA)
            }
            // Keep on walkin'.
            tablePA = pteToPaddr(first, level)
            guard let next = context.pointer(tablePA) else {
                coldWarn("arm_v7s_unmap_pages: table entry \(Kernel.hex(first)) points outside RAM (corrupted table)")
                return 0
            }
            table = next
            level += 1
        }
    }

    /// Turn a supersection or large page into 16 sections or small pages. Linux 6.6-6.12; an option here.
    /// Kernel: `arm_v7s_split_cont`.
    private func splitCont(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, index idx: Int, level: Int,
                           ptep: UnsafeMutablePointer<UInt32>, ptepPA: UInt64) -> UInt32 {
        var pte = ptep.pointee
        guard Self.isCont(pte, level) else { return pte }
        let back = idx & (V7S.contPages - 1)
        let start = ptep - back
        let size = UInt32(1) << UInt32(V7S.levelShift(level))
        pte = Self.fromCont(pte, level)
        for i in 0..<V7S.contPages { start[i] = pte &+ UInt32(i) &* size }
        if !context.coherent { context.clean(ptepPA &- UInt64(back << 2), bytes: V7S.contPages << 2) }
        let whole = UInt64(size) * UInt64(V7S.contPages)
        Flush.walk(iop, iova: iova, size: whole, granule: whole)
        return pte
    }

    /// Replace a section by a level-2 table that maps all of it except what is unmapped. Linux 6.6-6.12; an
    /// option here. Kernel: `arm_v7s_split_blk_unmap`, except that Linux 6.6 dropped the section's output
    /// address from the new entries (they mapped from PA 0); swiommu keeps it.
    private func splitBlockUnmap(_ iop: UnsafeMutablePointer<io_pgtable>, gather: UnsafeMutablePointer<iommu_iotlb_gather>?,
                                          iova: UInt64, size: UInt64, ptep: UnsafeMutablePointer<UInt32>,
                                          ptepPA: UInt64) -> UInt64 {
        let block = ptep.pointee
        guard let (tablePA, table) = allocateL2(gfp: .atomic) else { return 0 }
        let perTable = Self.l2Entries
        let n = Int(size >> 12)
        let unmapIndex = index(iova, 2)
        var pte = protToPTE(Self.pteToProt(block, 1), 2)
        if n > 1 { pte = Self.toCont(pte, 2) }
        pte |= paddrToPTE(pteToPaddr(block, 1), 2)
        let entries = table.assumingMemoryBound(to: UInt32.self)
        var i = 0
        while i < perTable {
            // Unmap!
            if i != unmapIndex { setPTEs(entries + i, pte, count: n, pa: tablePA &+ UInt64(i << 2)) }
            i += n
            pte &+= UInt32(truncatingIfNeeded: size)
        }
        let old = installTable(tablePA, ptep: ptep, ptepPA: ptepPA, expected: block)
        if old != block {
            freeL2(table)
            guard V7S.isTable(old, 1), let p = context.pointer(pteToPaddr(old, 1)) else { return 0 }
            return unmapOne(iop, gather: gather, iova: iova, size: size, level: 2, table: p, tablePA: pteToPaddr(old, 1))
        }
        Flush.addPage(iop, gather: gather, iova: iova, granule: size)
        return size
    }

    func destroy() {
        let l1 = pgd.assumingMemoryBound(to: UInt32.self)
        for i in 0..<l1Entries where V7S.isTable(l1[i], 1) {
            if let p = context.pointer(pteToPaddr(l1[i], 1)) { freeL2(p) }
        }
        context.freeTable(pa: pgdPA, pointer: pgd, bytes: pgdBytes)
    }

    // MARK: iova_to_phys. Kernel: arm_v7s_iova_to_phys.

    @inline(__always)
    func iovaToPhys(_ iova: UInt64) -> UInt64 {
        var pte = swiommu_pgt_load32_acquire(pgd.assumingMemoryBound(to: UInt32.self) + index(iova, 1))
        var level = 1
        if V7S.isTable(pte, 1) {
            guard let l2 = context.pointer(pteToPaddr(pte, 1)) else { return 0 }
            pte = l2.load(fromByteOffset: index(iova, 2) &<< 2, as: UInt32.self)
            level = 2
        }
        guard V7S.isValid(pte) else { return 0 }
        var mask = V7S.levelMask(level)
        if Self.isCont(pte, level) { mask &*= UInt32(V7S.contPages) }
        return pteToPaddr(pte, level) | (iova & UInt64(~mask))
    }

    // MARK: Dump

    func dump(into out: inout String) {
        let walk = context.coherent ? "coherent walk" : "non-coherent walk"
        out += "ARM_V7S: ias \(ias), oas \(oas), l1 \(Kernel.hex(pgdPA)) (\(l1Entries) entries), "
            + "page sizes \(Kernel.hex(pageSizes)), \(walk)\n"
        let l1 = pgd.assumingMemoryBound(to: UInt32.self)
        for i in 0..<l1Entries where l1[i] != 0 {
            let pte = l1[i]
            let start = UInt64(i) << 20
            var line = "L1[\(DumpFormat.index(i))] \(DumpFormat.hex64(start))-\(DumpFormat.hex64(start + (1 << 20) - 1)) "
                + DumpFormat.hex32(pte)
            if V7S.isTable(pte, 1) {
                let pa = pteToPaddr(pte, 1)
                out += line + " table -> \(Kernel.hex(pa))\n"
                guard let p = context.pointer(pa) else { continue }
                let l2 = p.assumingMemoryBound(to: UInt32.self)
                for j in 0..<Self.l2Entries where l2[j] != 0 {
                    let at = start + (UInt64(j) << 12)
                    let kind = Self.isCont(l2[j], 2) ? "large page" : "small page"
                    out += "  L2[\(DumpFormat.index(j))] \(DumpFormat.hex64(at))-\(DumpFormat.hex64(at + 0xfff)) "
                        + "\(DumpFormat.hex32(l2[j])) \(kind) -> \(Kernel.hex(pteToPaddr(l2[j], 2)))\n"
                }
            } else if V7S.isValid(pte) {
                line += " \(Self.isCont(pte, 1) ? "supersection" : "section") -> \(Kernel.hex(pteToPaddr(pte, 1)))"
                out += line + "\n"
            } else {
                out += line + " invalid\n"
            }
        }
    }
}
