// The ARM LPAE formats (VMSAv8-64 / VMSAv7 long descriptors): stage 1 and stage 2, 32- and 64-bit, and
// Mali. Descriptors are written bit for bit as Linux 6.17 writes them. Kernel: drivers/iommu/io-pgtable-arm.c.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// Descriptor and register bits. Kernel: the `ARM_LPAE_*` macros of io-pgtable-arm.c and io-pgtable-arm.h;
/// the fields are those of the Arm ARM (DDI 0487) D8.3 "Translation table descriptor formats".
enum LPAE {
    static let maxLevels = 4
    static let maxAddressBits = 52
    static let s2MaxConcatPages = 16

    // Descriptor type, bits [1:0]: 0b01 block (levels 1-2), 0b11 table (levels 0-2) or page (level 3).
    static let typeMask: UInt64 = 0x3
    static let typeBlock: UInt64 = 1
    static let typeTable: UInt64 = 3
    static let typePage: UInt64 = 3
    /// Output address bits [47:12]; with a 64K granule and 52-bit PAs, PA[51:48] sits in bits [15:12].
    static let addressMask = genmask(47, 12)

    static let nsTable: UInt64 = 1 << 63          // NSTable (table descriptors, stage 1)
    static let xn: UInt64 = 3 << 53               // PXN (53) and UXN/XN (54)
    static let dbm: UInt64 = 1 << 51              // Dirty Bit Modifier
    static let af: UInt64 = 1 << 10               // Access Flag
    static let shOS: UInt64 = 2 << 8             // SH[1:0] = outer shareable
    static let shIS: UInt64 = 3 << 8             // SH[1:0] = inner shareable
    static let ns: UInt64 = 1 << 5                // NS (stage 1 leaves)
    static let swSync: UInt64 = 1 << 55           // software bit: this table entry was synced (non-coherent walks)

    // Stage 1: AP[2:1] in bits [7:6], AttrIndx[2:0] in bits [4:2], nG in bit 11.
    static let apUnpriv: UInt64 = 1 << 6
    static let apReadOnly: UInt64 = 1 << 7
    static let attrIndexShift: UInt64 = 2
    static let notGlobal: UInt64 = 1 << 11

    // Stage 2: S2AP[1:0] in bits [7:6], MemAttr[3:0] in bits [5:2].
    static let hapRead: UInt64 = 1 << 6
    static let hapWrite: UInt64 = 2 << 6
    static let memAttrFWBWriteBack: UInt64 = 0x6 << 2
    static let memAttrOuterInnerWB: UInt64 = 0xf << 2
    static let memAttrNonCacheable: UInt64 = 0x5 << 2
    static let memAttrDevice: UInt64 = 0x1 << 2

    /// The attributes a split keeps (Linux 6.6-6.12 `iopte_prot()`): bits [11:2], XN and DBM.
    static let attributeMask: UInt64 = (0x3ff << 2) | xn | dbm

    // MAIR: the attribute index's memory types.
    static let mairDevice: UInt64 = 0x04
    static let mairNonCacheable: UInt64 = 0x44
    static let mairInnerNCOuterWB: UInt64 = 0xf4
    static let mairWriteBack: UInt64 = 0xff
    static let mairIndexNC: UInt64 = 0, mairIndexCache: UInt64 = 1, mairIndexDevice: UInt64 = 2
    static let mairIndexInnerNCOuterCache: UInt64 = 3

    // TCR/VTCR fields. Kernel: io-pgtable-arm.h.
    static let tg0_4K: UInt32 = 0, tg0_64K: UInt32 = 1, tg0_16K: UInt32 = 2
    static let tg1_16K: UInt32 = 1, tg1_4K: UInt32 = 2, tg1_64K: UInt32 = 3
    static let shNonShareable: UInt32 = 0, shOuter: UInt32 = 2, shInner: UInt32 = 3
    static let rgnNC: UInt32 = 0, rgnWBWA: UInt32 = 1, rgnWT: UInt32 = 2, rgnWB: UInt32 = 3
    static let vtcrSL0Mask: UInt64 = 0x3

    // Mali's TRANSTAB and MEMATTR.
    static let maliTransTabAddressModeTable: UInt64 = 3 << 0
    static let maliTransTabReadInner: UInt64 = 1 << 2
    static let maliTransTabShareOuter: UInt64 = 1 << 4
    static let maliMemAttrImplementationDefined: UInt64 = 0x88
    static let maliMemAttrWriteAlloc: UInt64 = 0x8d

    /// IPS/PS encoding of an output size, or nil for one the architecture does not have.
    static func physicalSizeEncoding(_ oas: UInt32) -> UInt32? {
        switch oas {
        case 32: 0
        case 36: 1
        case 40: 2
        case 42: 3
        case 44: 4
        case 48: 5
        case 52: 6
        default: nil
        }
    }
}

/// An ARM LPAE table. Kernel: `struct arm_lpae_io_pgtable` (pgd_bits, start_level, bits_per_level, pgd).
public final class ARMLPAETable: PageTableFormat {
    let context: TableContext
    let fmt: io_pgtable_fmt
    let isStage1: Bool
    let isStage2: Bool
    let isMali: Bool
    let quirks: UInt
    let ias: UInt32
    let oas: UInt32
    let pageSizes: UInt64
    let bitsPerLevel: Int
    let startLevel: Int
    let pgdBits: Int
    /// Per-level right shifts, one byte per level (computed once). Kernel: `ARM_LPAE_LVL_SHIFT`.
    let levelShifts: UInt32
    /// Index masks: of the top level (its own size) and of every other level.
    let pgdIndexMask: UInt64
    let tableIndexMask: UInt64
    let granule: Int
    let pgdPA: UInt64
    let pgd: UnsafeMutableRawPointer
    let pgdBytes: Int
    /// A 64K granule with RAM above 2^48: table addresses use the packed PA[51:48] too.
    let tablesAbove48Bits: Bool
    /// Whether map and unmap may start at a remembered table (see "Walk cache").
    let walkCacheEnabled: Bool
    let inputMask: UInt64

    // MARK: Geometry

    @inline(__always) func shift(_ level: Int) -> Int { Int((levelShifts &>> UInt32(truncatingIfNeeded: level &<< 3)) & 0xff) }
    @inline(__always) func blockSize(_ level: Int) -> UInt64 { 1 &<< UInt64(truncatingIfNeeded: shift(level)) }

    /// Kernel: `ARM_LPAE_LVL_IDX`.
    @inline(__always) func index(_ iova: UInt64, _ level: Int) -> Int {
        Int(truncatingIfNeeded: (iova &>> UInt64(truncatingIfNeeded: shift(level))) & (level == startLevel ? pgdIndexMask : tableIndexMask))
    }

    /// Entries a batch may fill from `index` without leaving its table page. Kernel: `arm_lpae_max_entries`
    /// (plus the end of a top level smaller than a page, which Linux leaves to its callers).
    @inline(__always) func maxEntries(_ index: Int, _ level: Int) -> Int {
        let perTable = 1 &<< bitsPerLevel
        let n = perTable - (index & (perTable - 1))
        if level == startLevel && pgdBits < bitsPerLevel { return min(n, (1 << pgdBits) - index) }
        return n
    }

    /// Kernel: `iopte_leaf`.
    @inline(__always) func isLeaf(_ pte: UInt64, _ level: Int) -> Bool {
        if level == LPAE.maxLevels - 1 && !isMali { return pte & LPAE.typeMask == LPAE.typePage }
        return pte & LPAE.typeMask == LPAE.typeBlock
    }

    /// Kernel: `iopte_table`.
    @inline(__always) func isTable(_ pte: UInt64, _ level: Int) -> Bool {
        level != LPAE.maxLevels - 1 && pte & LPAE.typeMask == LPAE.typeTable
    }

    /// Kernel: `paddr_to_iopte`. Of the bits that overlap, either 51:48 or 15:12 are always RES0.
    @inline(__always) func paddrToPTE(_ pa: UInt64) -> UInt64 { (pa | (pa >> 36)) & LPAE.addressMask }

    /// Kernel: `iopte_to_paddr`.
    @inline(__always) func pteToPaddr(_ pte: UInt64) -> UInt64 {
        let pa = pte & LPAE.addressMask
        if granule < 0x10000 { return pa }
        // Rotate the packed high-order bits back to the top.
        return (pa | (pa << 36)) & (LPAE.addressMask << 4)
    }

    /// The table a table descriptor points at. Tables are simulated RAM, below 2^48 unless a RAM layout says
    /// otherwise, so the 52-bit rotation of `pteToPaddr` stays off the walk's dependency chain.
    @inline(__always) func tableAddress(_ pte: UInt64) -> UInt64 {
        if _slowPath(tablesAbove48Bits) { return pteToPaddr(pte) }
        return pte & LPAE.addressMask
    }

    @inline(__always) var warnOnConflict: Bool { quirks & PageTableQuirk.noWarn == 0 }

    // MARK: Allocation. Kernel: arm_64_lpae_alloc_pgtable_s1/_s2, arm_32_lpae_*, arm_mali_lpae_alloc_pgtable.

    init(format fmt: io_pgtable_fmt, config cfg: inout io_pgtable_cfg, context: TableContext) throws(Errno) {
        let sizes32 = UInt(Size.k4 | Size.m2 | Size.g1)
        switch fmt {
        case ARM_32_LPAE_S1:
            guard cfg.ias <= 32 && cfg.oas <= 40 else { throw .invalid }
            cfg.pgsize_bitmap &= sizes32
        case ARM_32_LPAE_S2:
            guard cfg.ias <= 40 && cfg.oas <= 40 else { throw .invalid }
            cfg.pgsize_bitmap &= sizes32
        case ARM_64_LPAE_S1, ARM_64_LPAE_S2:
            break
        case ARM_MALI_LPAE:
            // No quirks for Mali.
            guard cfg.quirks == 0 else { throw .invalid }
            guard cfg.ias <= 48 && cfg.oas <= 40 else { throw .invalid }
            cfg.pgsize_bitmap &= sizes32
        default:
            throw .invalid
        }
        let stage1 = fmt == ARM_32_LPAE_S1 || fmt == ARM_64_LPAE_S1
        let stage2 = fmt == ARM_32_LPAE_S2 || fmt == ARM_64_LPAE_S2
        let mali = fmt == ARM_MALI_LPAE
        // Quirks are checked before any work.
        if stage1 {
            let known = PageTableQuirk.armNS | PageTableQuirk.armTTBR1 | PageTableQuirk.armOuterWBWA
                | PageTableQuirk.armHD | PageTableQuirk.noWarn
            guard cfg.quirks & ~known == 0 else { throw .invalid }
        } else if stage2 {
            guard cfg.quirks & ~(PageTableQuirk.armS2FWB | PageTableQuirk.noWarn) == 0 else { throw .invalid }
        }

        // arm_lpae_alloc_pgtable: narrow the page sizes, then the geometry.
        Self.restrictPageSizes(&cfg, pageSize: UInt64(1) << UInt64(context.pageShift))
        let bitmap = UInt64(cfg.pgsize_bitmap)
        guard bitmap & (Size.k4 | Size.k16 | Size.k64) != 0 else { throw .invalid }
        guard cfg.ias <= UInt32(LPAE.maxAddressBits) && cfg.oas <= UInt32(LPAE.maxAddressBits) else { throw .invalid }
        let pgShift = bitmap.lowestBit
        let bpl = pgShift - 3
        let vaBits = Int(cfg.ias) - pgShift
        // Linux has no such check and computes nonsense for it; swiommu refuses.
        guard vaBits > 0 else { throw .invalid }
        let levels = (vaBits + bpl - 1) / bpl
        var start = LPAE.maxLevels - levels
        // The size of the pgd, without concatenation.
        var pgdBits = vaBits - bpl * (levels - 1)
        let granule = 1 << pgShift

        if stage1 {
            let coherent = cfg.coherent_walk
            let outerWBWA = cfg.quirks & PageTableQuirk.armOuterWBWA != 0
            if coherent {
                cfg.arm_lpae_s1_cfg.tcr.sh = LPAE.shInner
                cfg.arm_lpae_s1_cfg.tcr.irgn = LPAE.rgnWBWA
                cfg.arm_lpae_s1_cfg.tcr.orgn = LPAE.rgnWBWA
                guard !outerWBWA else { throw .invalid }
            } else {
                cfg.arm_lpae_s1_cfg.tcr.sh = LPAE.shOuter
                cfg.arm_lpae_s1_cfg.tcr.irgn = LPAE.rgnNC
                cfg.arm_lpae_s1_cfg.tcr.orgn = outerWBWA ? LPAE.rgnWBWA : LPAE.rgnNC
            }
            let tg1 = cfg.quirks & PageTableQuirk.armTTBR1 != 0
            switch granule {
            case 0x1000: cfg.arm_lpae_s1_cfg.tcr.tg = tg1 ? LPAE.tg1_4K : LPAE.tg0_4K
            case 0x4000: cfg.arm_lpae_s1_cfg.tcr.tg = tg1 ? LPAE.tg1_16K : LPAE.tg0_16K
            default: cfg.arm_lpae_s1_cfg.tcr.tg = tg1 ? LPAE.tg1_64K : LPAE.tg0_64K
            }
            guard let ips = LPAE.physicalSizeEncoding(cfg.oas) else { throw .invalid }
            cfg.arm_lpae_s1_cfg.tcr.ips = ips
            cfg.arm_lpae_s1_cfg.tcr.tsz = 64 - cfg.ias
            cfg.arm_lpae_s1_cfg.mair = (LPAE.mairNonCacheable << (LPAE.mairIndexNC << 3))
                | (LPAE.mairWriteBack << (LPAE.mairIndexCache << 3))
                | (LPAE.mairDevice << (LPAE.mairIndexDevice << 3))
                | (LPAE.mairInnerNCOuterWB << (LPAE.mairIndexInnerNCOuterCache << 3))
        } else if stage2 {
            if Self.concatenationMandatory(ias: cfg.ias, oas: cfg.oas, granule: granule, startLevel: start) {
                guard 1 << pgdBits <= LPAE.s2MaxConcatPages else {
                    coldWarn("io-pgtable: \(formatName(fmt)): \(1 << pgdBits) concatenated tables exceed 16")
                    throw .invalid
                }
                pgdBits += bpl
                start += 1
            }
            if cfg.coherent_walk {
                cfg.arm_lpae_s2_cfg.vtcr.sh = LPAE.shInner
                cfg.arm_lpae_s2_cfg.vtcr.irgn = LPAE.rgnWBWA
                cfg.arm_lpae_s2_cfg.vtcr.orgn = LPAE.rgnWBWA
            } else {
                cfg.arm_lpae_s2_cfg.vtcr.sh = LPAE.shOuter
                cfg.arm_lpae_s2_cfg.vtcr.irgn = LPAE.rgnNC
                cfg.arm_lpae_s2_cfg.vtcr.orgn = LPAE.rgnNC
            }
            var sl = UInt64(start)
            switch granule {
            case 0x1000:
                cfg.arm_lpae_s2_cfg.vtcr.tg = LPAE.tg0_4K
                sl += 1 // SL0 format is different for 4K granule size
            case 0x4000: cfg.arm_lpae_s2_cfg.vtcr.tg = LPAE.tg0_16K
            default: cfg.arm_lpae_s2_cfg.vtcr.tg = LPAE.tg0_64K
            }
            guard let ps = LPAE.physicalSizeEncoding(cfg.oas) else { throw .invalid }
            cfg.arm_lpae_s2_cfg.vtcr.ps = ps
            cfg.arm_lpae_s2_cfg.vtcr.tsz = 64 - cfg.ias
            cfg.arm_lpae_s2_cfg.vtcr.sl = UInt32(~sl & LPAE.vtcrSL0Mask)
        } else {
            // Mali seems to need a full 4-level table regardless of IAS.
            if start > 0 {
                start = 0
                pgdBits = 0
            }
            cfg.arm_mali_lpae_cfg.memattr = (LPAE.maliMemAttrImplementationDefined << (LPAE.mairIndexNC << 3))
                | (LPAE.maliMemAttrWriteAlloc << (LPAE.mairIndexCache << 3))
                | (LPAE.maliMemAttrImplementationDefined << (LPAE.mairIndexDevice << 3))
        }

        // Looking good; allocate a pgd.
        let pgdBytes = 8 << pgdBits
        guard let (pa, pointer) = context.allocateTable(bytes: pgdBytes, gfp: .kernel, site: PageTableSite.lpaeTable) else {
            throw .noMemory
        }
        swiommu_pgt_wmb()
        if stage1 {
            cfg.arm_lpae_s1_cfg.ttbr = pa
        } else if stage2 {
            cfg.arm_lpae_s2_cfg.vttbr = pa
        } else {
            cfg.arm_mali_lpae_cfg.transtab = pa | LPAE.maliTransTabReadInner | LPAE.maliTransTabAddressModeTable
                | (cfg.coherent_walk ? LPAE.maliTransTabShareOuter : 0)
        }

        var shifts: UInt32 = 0
        for level in 0..<LPAE.maxLevels { shifts |= UInt32((LPAE.maxLevels - level) * bpl + 3) << UInt32(level << 3) }
        var context = context
        context.preferBank(of: pa)
        self.context = context
        self.fmt = fmt
        isStage1 = stage1
        isStage2 = stage2
        isMali = mali
        quirks = cfg.quirks
        ias = cfg.ias
        oas = cfg.oas
        pageSizes = UInt64(cfg.pgsize_bitmap)
        bitsPerLevel = bpl
        startLevel = start
        self.pgdBits = pgdBits
        levelShifts = shifts
        pgdIndexMask = (1 << UInt64(pgdBits)) - 1
        tableIndexMask = (1 << UInt64(bpl)) - 1
        self.granule = granule
        pgdPA = pa
        pgd = pointer
        self.pgdBytes = pgdBytes
        var highRAM = false
        for i in 0..<context.bankCount where context.banks[i].end.rawValue > 1 << 48 { highRAM = true }
        tablesAbove48Bits = granule == 0x10000 && highRAM
        var lowRAM = true
        for i in 0..<context.bankCount where context.banks[i].end.rawValue > 1 << 40 { lowRAM = false }
        walkCacheEnabled = context.coherent && lowRAM && start < 3
        inputMask = (1 << UInt64(cfg.ias)) - 1
    }

    // MARK: Walk cache

    // The level-2 and level-3 tables map and unmap last reached, one of each, so that a run of operations in
    // one region starts there instead of at the top; a software counterpart of an SMMU's walk cache (Linux walks
    // from the top every time; the descriptors and callbacks are the same either way). Coherent walks only:
    // a non-coherent walk syncs the table entries it passes. Each word holds (region + 1) << 28 | PA >> 12,
    // read and written whole; freeing any table clears both.

    @inline(__always)
    func cachedTable(level: Int, iova: UInt64) -> (UnsafeMutableRawPointer, UInt64)? {
        let region = (iova & inputMask) &>> UInt64(truncatingIfNeeded: shift(level &- 1))
        let word = swiommu_pgt_load64(context.walkCache + (level - 2))
        guard word &>> 28 == region &+ 1 else { return nil }
        let pa = (word & 0xfff_ffff) &<< 12
        guard let table = context.pointer(pa) else { return nil }
        return (table, pa)
    }

    @inline(__always)
    func rememberTable(level: Int, iova: UInt64, pa: UInt64) {
        let region = (iova & inputMask) &>> UInt64(truncatingIfNeeded: shift(level &- 1))
        swiommu_pgt_store64(context.walkCache + (level - 2), ((region &+ 1) &<< 28) | (pa &>> 12))
    }

    func forgetTables() {
        swiommu_pgt_store64(context.walkCache, 0)
        swiommu_pgt_store64(context.walkCache + 1, 0)
    }

    /// Where a map or unmap of `pageSize` at `iova` may start: a remembered table, or the pgd.
    @inline(__always)
    func startingTable(iova: UInt64, pageSize: UInt64) -> (UnsafeMutableRawPointer, UInt64, Int) {
        if walkCacheEnabled {
            let leafLevel = pageSize == UInt64(granule) ? 3 : (pageSize == blockSize(2) ? 2 : 0)
            if leafLevel > startLevel, let (table, pa) = cachedTable(level: leafLevel, iova: iova) {
                return (table, pa, leafLevel)
            }
        }
        return (pgd, pgdPA, startLevel)
    }

    /// Keep the page sizes of one granule: the CPU's page size if offered, else the largest smaller one,
    /// else the smallest larger one; clamp ias and oas to 48 bits (52 with 64K). Kernel:
    /// `arm_lpae_restrict_pgsizes`.
    static func restrictPageSizes(_ cfg: inout io_pgtable_cfg, pageSize: UInt64) {
        let bitmap = UInt64(cfg.pgsize_bitmap)
        let pageMask = ~(pageSize - 1)
        var granule: UInt64 = 0
        if bitmap & pageSize != 0 {
            granule = pageSize
        } else if bitmap & ~pageMask != 0 {
            granule = 1 << UInt64((bitmap & ~pageMask).highestBit)
        } else if bitmap & pageMask != 0 {
            granule = 1 << UInt64((bitmap & pageMask).lowestBit)
        }
        var maxAddressBits: UInt32 = 48
        var sizes: UInt64
        switch granule {
        case Size.k4: sizes = Size.k4 | Size.m2 | Size.g1
        case Size.k16: sizes = Size.k16 | Size.m32
        case Size.k64:
            maxAddressBits = 52
            sizes = Size.k64 | Size.m512
            if cfg.oas > 48 { sizes |= Size.t4 }
        default: sizes = 0
        }
        cfg.pgsize_bitmap &= UInt(sizes)
        cfg.ias = min(cfg.ias, maxAddressBits)
        cfg.oas = min(cfg.oas, maxAddressBits)
    }

    /// Whether the Arm ARM requires a concatenated first-level table (DDI 0487 K.a R_DXBSH, R_SRKBC).
    /// Kernel: `arm_lpae_concat_mandatory`.
    static func concatenationMandatory(ias: UInt32, oas: UInt32, granule: Int, startLevel: Int) -> Bool {
        if granule == 0x4000 && startLevel == 0 { return oas == 48 || ias == 48 }
        if granule == 0x1000 && startLevel == 0 { return oas == 40 || oas == 42 }
        return granule == 0x4000 && startLevel == 1 && oas == 40
    }

    // MARK: Protection. Kernel: arm_lpae_prot_to_pte.

    @inline(__always)
    func protToPTE(_ prot: Int32) -> UInt64 {
        var pte: UInt64
        if isStage1 {
            pte = LPAE.notGlobal
            if prot & IOMMUProt.write.rawValue == 0 && prot & IOMMUProt.read.rawValue != 0 {
                pte |= LPAE.apReadOnly
            } else if quirks & PageTableQuirk.armHD != 0 {
                pte |= LPAE.dbm
            }
            if prot & IOMMUProt.priv.rawValue == 0 { pte |= LPAE.apUnpriv }
        } else {
            // Stage 2 and Mali: stage-2-like permissions.
            pte = 0
            if prot & IOMMUProt.read.rawValue != 0 { pte |= LPAE.hapRead }
            if prot & IOMMUProt.write.rawValue != 0 { pte |= LPAE.hapWrite }
        }
        if isStage2 {
            if prot & IOMMUProt.mmio.rawValue != 0 {
                pte |= LPAE.memAttrDevice
            } else if prot & IOMMUProt.cache.rawValue != 0 {
                pte |= quirks & PageTableQuirk.armS2FWB != 0 ? LPAE.memAttrFWBWriteBack : LPAE.memAttrOuterInnerWB
            } else {
                pte |= LPAE.memAttrNonCacheable
            }
        } else if prot & IOMMUProt.mmio.rawValue != 0 {
            pte |= LPAE.mairIndexDevice << LPAE.attrIndexShift
        } else if prot & IOMMUProt.cache.rawValue != 0 {
            pte |= LPAE.mairIndexCache << LPAE.attrIndexShift
        }
        // Mali's inner domain covers the GPU's cores only: outer shareable whatever the caching.
        pte |= prot & IOMMUProt.cache.rawValue != 0 && !isMali ? LPAE.shIS : LPAE.shOS
        if prot & IOMMUProt.noExec.rawValue != 0 { pte |= LPAE.xn }
        if quirks & PageTableQuirk.armNS != 0 { pte |= LPAE.ns }
        if !isMali { pte |= LPAE.af }
        return pte
    }

    // MARK: map. Kernel: arm_lpae_map_pages, __arm_lpae_map, arm_lpae_init_pte.

    func map(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, pageSize: UInt64,
                      count: Int, prot: Int32, gfp: GFP, mapped: inout Int) throws(Errno) {
        // Linux accepts any subset of the bitmap here and fails later; swiommu wants exactly one size.
        guard pageSize != 0 && pageSize & pageSizes == pageSize && pageSize & (pageSize &- 1) == 0 else {
            coldWarn("arm_lpae_map_pages: page size \(Kernel.hex(pageSize)) is not one of \(Kernel.hex(pageSizes))")
            throw .invalid
        }
        var inputExtension = Int64(bitPattern: iova) &>> Int64(ias)
        if quirks & PageTableQuirk.armTTBR1 != 0 { inputExtension = ~inputExtension }
        guard inputExtension == 0 && paddr &>> UInt64(oas) == 0 else {
            coldWarn("arm_lpae_map_pages: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) out of range "
                        + "(ias \(ias), oas \(oas))")
            throw .range
        }
        // A mapping with neither read nor write is refused (Linux 6.11+).
        guard prot & (IOMMUProt.read.rawValue | IOMMUProt.write.rawValue) != 0 else { throw .invalid }
        guard (iova | paddr) & (pageSize &- 1) == 0 else {
            coldWarn("arm_lpae_map_pages: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) "
                        + "not aligned to \(Kernel.hex(pageSize))")
            throw .invalid
        }
        guard count > 0 else { return }
        let pte = protToPTE(prot)
        defer { swiommu_pgt_wmb() }

        var (table, tablePA, level) = startingTable(iova: iova, pageSize: pageSize)
        while true {
            let idx = index(iova, level)
            let ptep = table.assumingMemoryBound(to: UInt64.self) + idx
            let ptepPA = tablePA &+ UInt64(idx &<< 3)
            // If we can install a leaf entry at this level, then do so.
            if pageSize == blockSize(level) {
                let n = min(count, maxEntries(idx, level))
                try initPTEs(iop, iova: iova, paddr: paddr, pte: pte, level: level, count: n, ptep: ptep, ptepPA: ptepPA,
                             table: table, tablePA: tablePA)
                mapped &+= n &* Int(pageSize)
                return
            }
            // We can't allocate tables at the final level.
            guard level < LPAE.maxLevels - 1 else {
                coldWarn("arm_lpae_map_pages: no level maps \(Kernel.hex(pageSize))")
                throw .invalid
            }
            var current = swiommu_pgt_load64_acquire(ptep)
            var next: UnsafeMutableRawPointer? = nil
            var nextPA: UInt64 = 0
            if current == 0 {
                guard let (pa, pointer) = context.allocateTable(bytes: granule, gfp: gfp, site: PageTableSite.lpaeTable) else {
                    throw .noMemory
                }
                current = installTable(pa, ptep: ptep, ptepPA: ptepPA, expected: 0)
                if current != 0 {
                    // Lost a race: someone else installed a table (or a leaf) first.
                    context.freeTable(pa: pa, pointer: pointer, bytes: granule)
                } else {
                    next = pointer
                    nextPA = pa
                }
            } else if !context.coherent && current & LPAE.swSync == 0 {
                context.clean(ptepPA, bytes: 8)
            }
            if current != 0 {
                if isLeaf(current, level) {
                    // We require an unmap first.
                    if warnOnConflict { coldWarn("arm_lpae_map_pages: iova \(Kernel.hex(iova)) lies in a mapped block") }
                    throw .exists
                }
                nextPA = tableAddress(current)
                next = context.pointer(nextPA)
            }
            guard let next else {
                coldWarn("arm_lpae_map_pages: table entry \(Kernel.hex(current)) points outside RAM (corrupted table)")
                throw .fault
            }
            table = next
            tablePA = nextPA
            level += 1
            if walkCacheEnabled && level >= 2 { rememberTable(level: level, iova: iova, pa: tablePA) }
        }
    }

    /// Install `count` leaves from `ptep`. Linux checks entry by entry and may free tables before it finds a
    /// leaf further on; swiommu checks every entry first, so a refused batch changes nothing.
    @inline(__always)
    func initPTEs(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, pte: UInt64,
                           level: Int, count: Int, ptep: UnsafeMutablePointer<UInt64>, ptepPA: UInt64,
                           table: UnsafeMutableRawPointer, tablePA: UInt64) throws(Errno) {
        // Usually every entry is empty: one OR over the batch says so.
        var any: UInt64 = 0
        for i in 0..<count { any |= ptep[i] }
        let size = blockSize(level)
        if any != 0 {
            var tables = false
            for i in 0..<count {
                let old = ptep[i]
                if isLeaf(old, level) {
                    if warnOnConflict {
                        coldWarn("arm_lpae_map_pages: iova \(Kernel.hex(iova &+ UInt64(i) &* size)) is already mapped")
                    }
                    throw .exists
                }
                if old & LPAE.typeMask == LPAE.typeTable { tables = true }
            }
            if tables {
                // We need to unmap and free the old table before overwriting it with a block entry.
                for i in 0..<count where ptep[i] & LPAE.typeMask == LPAE.typeTable {
                    let at = iova &+ UInt64(i) &* size
                    guard unmapWalk(iop, gather: nil, iova: at, size: size, count: 1, level: level, table: table,
                                    tablePA: tablePA) == size else {
                        coldWarn("arm_lpae_map_pages: could not replace the table at \(Kernel.hex(at))")
                        throw .invalid
                    }
                }
            }
        }
        let leaf = pte | (!isMali && level == LPAE.maxLevels - 1 ? LPAE.typePage : LPAE.typeBlock)
        let last = paddr &+ UInt64(count &- 1) &* size
        if last &>> 48 == 0 {
            // Below 2^48 the descriptor holds the address as is: one add per entry.
            let first = leaf | paddr
            for i in 0..<count { ptep[i] = first &+ UInt64(i) &* size }
        } else {
            var pa = paddr
            for i in 0..<count {
                ptep[i] = leaf | paddrToPTE(pa)
                pa &+= size
            }
        }
        if !context.coherent { context.clean(ptepPA, bytes: count << 3) }
    }

    /// Point `ptep` at a new table unless it changed from `expected`; returns what it held. Kernel:
    /// `arm_lpae_install_table`.
    func installTable(_ tablePA: UInt64, ptep: UnsafeMutablePointer<UInt64>, ptepPA: UInt64,
                               expected: UInt64) -> UInt64 {
        var new = paddrToPTE(tablePA) | LPAE.typeTable
        if quirks & PageTableQuirk.armNS != 0 { new |= LPAE.nsTable }
        // Ensure the table itself is visible before its PTE can be.
        swiommu_pgt_wmb()
        let old = swiommu_pgt_cmpxchg64(ptep, expected, new)
        if context.coherent || old & LPAE.swSync != 0 { return old }
        // Even if it's not ours, there's no point waiting; just kick it.
        context.clean(ptepPA, bytes: 8)
        // The CPU's copy records that the entry reached memory (the walker ignores bit 55 of a table entry).
        if old == expected { swiommu_pgt_store64(ptep, new | LPAE.swSync) }
        return old
    }

    // MARK: unmap. Kernel: arm_lpae_unmap_pages, __arm_lpae_unmap.

    func unmap(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, pageSize: UInt64, count: Int,
                        gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> UInt64 {
        guard pageSize != 0 && pageSize & pageSizes == pageSize && pageSize & (pageSize &- 1) == 0 && count > 0 else {
            coldWarn("arm_lpae_unmap_pages: page size \(Kernel.hex(pageSize)) x \(count) (sizes \(Kernel.hex(pageSizes)))")
            return 0
        }
        var inputExtension = Int64(bitPattern: iova) &>> Int64(ias)
        if quirks & PageTableQuirk.armTTBR1 != 0 { inputExtension = ~inputExtension }
        guard inputExtension == 0 else {
            coldWarn("arm_lpae_unmap_pages: iova \(Kernel.hex(iova)) out of range (ias \(ias))")
            return 0
        }
        guard iova & (pageSize &- 1) == 0 else {
            coldWarn("arm_lpae_unmap_pages: iova \(Kernel.hex(iova)) not aligned to \(Kernel.hex(pageSize))")
            return 0
        }
        let (table, tablePA, level) = startingTable(iova: iova, pageSize: pageSize)
        return unmapWalk(iop, gather: gather, iova: iova, size: pageSize, count: count, level: level, table: table,
                         tablePA: tablePA)
    }

    func unmapWalk(_ iop: UnsafeMutablePointer<io_pgtable>, gather: UnsafeMutablePointer<iommu_iotlb_gather>?,
                            iova: UInt64, size: UInt64, count: Int, level startAt: Int,
                            table startTable: UnsafeMutableRawPointer, tablePA startTablePA: UInt64) -> UInt64 {
        var level = startAt
        var table = startTable
        var tablePA = startTablePA
        while true {
            // Something went horribly wrong and we ran out of page table.
            guard level < LPAE.maxLevels else {
                coldWarn("arm_lpae_unmap_pages: ran out of page table")
                return 0
            }
            let idx = index(iova, level)
            let ptep = table.assumingMemoryBound(to: UInt64.self) + idx
            let ptepPA = tablePA &+ UInt64(idx &<< 3)
            var pte = swiommu_pgt_load64_acquire(ptep)
            if pte == 0 {
                // Linux 6.17 returns -ENOENT through its size_t here; swiommu returns 0 bytes.
                if warnOnConflict { coldWarn("arm_lpae_unmap_pages: iova \(Kernel.hex(iova)) is not mapped") }
                return 0
            }
            // If the size matches this level, we're in the right place.
            if size == blockSize(level) {
                let n = min(count, maxEntries(idx, level))
                // Usually every entry is a leaf: reductions over the batch say so without branching per entry.
                let leafType: UInt64 = !isMali && level == LPAE.maxLevels - 1 ? LPAE.typePage : LPAE.typeBlock
                var all = UInt64.max, any: UInt64 = 0
                for j in 0..<n {
                    all &= ptep[j]
                    any |= ptep[j]
                }
                var i = n
                if !(all & LPAE.typeMask & leafType == leafType && any & LPAE.typeMask & ~leafType == 0) {
                    i = 0
                    while i < n {
                        pte = ptep[i]
                        if pte == 0 {
                            if warnOnConflict {
                                coldWarn("arm_lpae_unmap_pages: iova \(Kernel.hex(iova &+ UInt64(i) &* size)) is not mapped")
                            }
                            break
                        }
                        if !isLeaf(pte, level) {
                            ptep[i] = 0
                            if !context.coherent { context.clean(ptepPA &+ UInt64(i &<< 3), bytes: 8) }
                            // Also flush any partial walks.
                            Flush.walk(iop, iova: iova &+ UInt64(i) &* size, size: size, granule: UInt64(granule))
                            if level < LPAE.maxLevels - 1 { freeSubtree(level + 1, pa: pteToPaddr(pte)) }
                        }
                        i += 1
                    }
                }
                // Clear the remaining entries (one store for the usual single page, not a call to memset).
                if i == 1 { ptep[0] = 0 } else { for j in 0..<i { ptep[j] = 0 } }
                if !context.coherent && i > 0 { context.clean(ptepPA, bytes: i << 3) }
                if let gather, !gather.pointee.queued, let tlb = iop.pointee.cfg.tlb, let addPage = tlb.pointee.tlb_add_page {
                    let cookie = iop.pointee.cookie
                    for j in 0..<i { addPage(gather, CUnsignedLong(iova &+ UInt64(j) &* size), Int(size), cookie) }
                }
                return UInt64(i) &* size
            } else if isLeaf(pte, level) {
                if context.splitBlocks {
                    return splitBlockUnmap(iop, gather: gather, iova: iova, size: size, block: pte, level: level + 1,
                                           ptep: ptep, ptepPA: ptepPA, count: count)
                }
                partialUnmapWarnLPAE.warn("Unmap of a partial large IOPTE is not allowed")
                return 0
            }
            // Keep on walkin'.
            tablePA = tableAddress(pte)
            guard let next = context.pointer(tablePA) else {
                coldWarn("arm_lpae_unmap_pages: table entry \(Kernel.hex(pte)) points outside RAM (corrupted table)")
                return 0
            }
            table = next
            level += 1
            if walkCacheEnabled && level >= 2 { rememberTable(level: level, iova: iova, pa: tablePA) }
        }
    }

    /// Replace the block at `ptep` by a table of the next level that maps all of it except what is unmapped.
    /// Linux 6.6-6.12; an option here. Kernel: `arm_lpae_split_blk_unmap`.
    func splitBlockUnmap(_ iop: UnsafeMutablePointer<io_pgtable>, gather: UnsafeMutablePointer<iommu_iotlb_gather>?,
                                  iova: UInt64, size: UInt64, block: UInt64, level: Int,
                                  ptep: UnsafeMutablePointer<UInt64>, ptepPA: UInt64, count: Int) -> UInt64 {
        guard level < LPAE.maxLevels else {
            coldWarn("arm_lpae_split_blk_unmap: no level below")
            return 0
        }
        guard let (tablePA, table) = context.allocateTable(bytes: granule, gfp: .atomic, site: PageTableSite.lpaeTable) else {
            return 0 // Bytes unmapped
        }
        let splitSize = blockSize(level)
        let perTable = 1 &<< bitsPerLevel
        var unmapStart = -1
        var unmapCount = 0
        if size == splitSize {
            unmapStart = index(iova, level)
            unmapCount = min(count, perTable - unmapStart)
        }
        var blockPA = pteToPaddr(block)
        let attributes = block & LPAE.attributeMask
        let type = !isMali && level == LPAE.maxLevels - 1 ? LPAE.typePage : LPAE.typeBlock
        let entries = table.assumingMemoryBound(to: UInt64.self)
        for i in 0..<perTable {
            defer { blockPA &+= splitSize }
            // Unmap!
            if i >= unmapStart && i < unmapStart + unmapCount { continue }
            entries[i] = attributes | type | paddrToPTE(blockPA)
            if !context.coherent { context.clean(tablePA &+ UInt64(i << 3), bytes: 8) }
        }
        let old = installTable(tablePA, ptep: ptep, ptepPA: ptepPA, expected: block)
        var next = table
        var nextPA = tablePA
        if old != block {
            context.freeTable(pa: tablePA, pointer: table, bytes: granule)
            // We may race against someone unmapping another part of this block, but anything else is invalid.
            guard old & LPAE.typeMask == LPAE.typeTable, let p = context.pointer(pteToPaddr(old)) else { return 0 }
            next = p
            nextPA = pteToPaddr(old)
        } else if unmapStart >= 0 {
            for i in 0..<unmapCount { Flush.addPage(iop, gather: gather, iova: iova &+ UInt64(i) &* size, granule: size) }
            return UInt64(unmapCount) &* size
        }
        return unmapWalk(iop, gather: gather, iova: iova, size: size, count: count, level: level, table: next, tablePA: nextPA)
    }

    /// Free a table and every table below it. Kernel: `__arm_lpae_free_pgtable`.
    func freeSubtree(_ level: Int, pa: UInt64) {
        if walkCacheEnabled { forgetTables() }
        guard let table = context.pointer(pa) else {
            coldWarn("io-pgtable: table at \(Kernel.hex(pa)) is outside RAM (corrupted table)")
            return
        }
        let bytes = level == startLevel ? pgdBytes : granule
        // Only leaf entries at the last level.
        if level < LPAE.maxLevels - 1 {
            let entries = table.assumingMemoryBound(to: UInt64.self)
            for i in 0..<(bytes >> 3) {
                let pte = entries[i]
                if pte == 0 || isLeaf(pte, level) { continue }
                freeSubtree(level + 1, pa: pteToPaddr(pte))
            }
        }
        context.freeTable(pa: pa, pointer: table, bytes: bytes)
    }

    func destroy() { freeSubtree(startLevel, pa: pgdPA) }

    // MARK: iova_to_phys and pgtable_walk. Kernel: arm_lpae_iova_to_phys, arm_lpae_pgtable_walk.

    @inline(__always)
    func iovaToPhys(_ iova: UInt64) -> UInt64 {
        var table = pgd
        var level = startLevel
        // The last level-3 table map or unmap reached, when it covers `iova` (dma_unmap's lookup of what it
        // just mapped): the same descriptor as a walk from the top finds.
        if walkCacheEnabled && iova & ~inputMask == 0, let (t, _) = cachedTable(level: 3, iova: iova) {
            table = t
            level = 3
        }
        while true {
            let pte = swiommu_pgt_load64_acquire(table.assumingMemoryBound(to: UInt64.self) + index(iova, level))
            if isLeaf(pte, level) { return pteToPaddr(pte) | (iova & (blockSize(level) &- 1)) }
            guard isTable(pte, level), let next = context.pointer(tableAddress(pte)) else { return 0 }
            table = next
            level += 1
        }
    }

    /// Record the descriptor of every level visited in `ptes[level]`. 0 when a leaf was reached, -EINVAL at
    /// an invalid descriptor.
    func walk(_ iova: UInt64, into ptes: UnsafeMutablePointer<UInt64>) -> Int32 {
        var table = pgd
        var level = startLevel
        while level < LPAE.maxLevels {
            let pte = swiommu_pgt_load64_acquire(table.assumingMemoryBound(to: UInt64.self) + index(iova, level))
            ptes[level] = pte
            if isLeaf(pte, level) { return 0 }
            guard isTable(pte, level), let next = context.pointer(tableAddress(pte)) else { return Errno.invalid.negated }
            table = next
            level += 1
        }
        return Errno.invalid.negated
    }

    // MARK: Dump

    func dump(into out: inout String) {
        let walk = context.coherent ? "coherent walk" : "non-coherent walk"
        out += "\(formatName(fmt)): ias \(ias), oas \(oas), granule \(granule >> 10)K, levels \(startLevel)-3, "
            + "pgd \(Kernel.hex(pgdPA)) (\(1 << pgdBits) entries), page sizes \(Kernel.hex(pageSizes)), \(walk)\n"
        let top: UInt64 = quirks & PageTableQuirk.armTTBR1 != 0 ? ~((1 << UInt64(ias)) - 1) : 0
        dumpTable(pgd, level: startLevel, base: top, entries: 1 << pgdBits, into: &out)
    }

    private func dumpTable(_ table: UnsafeMutableRawPointer, level: Int, base: UInt64, entries: Int, into out: inout String) {
        let size = blockSize(level)
        let indent = String(repeating: "  ", count: level - startLevel)
        for i in 0..<entries {
            let pte = table.load(fromByteOffset: i << 3, as: UInt64.self)
            if pte == 0 { continue }
            let start = base &+ UInt64(i) &* size
            var line = "\(indent)L\(level)[\(DumpFormat.index(i))] \(DumpFormat.hex64(start))-\(DumpFormat.hex64(start &+ size &- 1)) "
                + DumpFormat.hex64(pte)
            if isLeaf(pte, level) {
                line += " \(level == LPAE.maxLevels - 1 ? "page" : "block") -> \(Kernel.hex(pteToPaddr(pte))) \(describeLeaf(pte))"
                out += line + "\n"
            } else if isTable(pte, level) {
                let next = pteToPaddr(pte)
                out += line + " table -> \(Kernel.hex(next))\n"
                if let p = context.pointer(next) { dumpTable(p, level: level + 1, base: start, entries: 1 << bitsPerLevel, into: &out) }
            } else {
                out += line + " invalid\n"
            }
        }
    }

    private func describeLeaf(_ pte: UInt64) -> String {
        var s = ""
        if isStage1 {
            s += pte & LPAE.apReadOnly != 0 ? "ro" : "rw"
            s += pte & LPAE.apUnpriv != 0 ? " unpriv" : " priv"
            s += " attr\((pte >> LPAE.attrIndexShift) & 7)"
        } else {
            s += pte & LPAE.hapRead != 0 ? "r" : "-"
            s += pte & LPAE.hapWrite != 0 ? "w" : "-"
            s += isMali ? " attr\((pte >> LPAE.attrIndexShift) & 7)" : " memattr\(Kernel.hex((pte >> 2) & 0xf))"
        }
        if pte & LPAE.xn != 0 { s += " xn" }
        if pte & LPAE.af == 0 && !isMali { s += " !af" }
        return s
    }
}

/// Calls into the driver's `iommu_flush_ops`. Kernel: `io_pgtable_tlb_flush_walk`, `io_pgtable_tlb_add_page`,
/// `io_pgtable_tlb_flush_all`.
enum Flush {
    @inline(__always)
    static func walk(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, size: UInt64, granule: UInt64) {
        if let tlb = iop.pointee.cfg.tlb, let f = tlb.pointee.tlb_flush_walk {
            f(CUnsignedLong(iova), Int(size), Int(granule), iop.pointee.cookie)
        }
    }

    @inline(__always)
    static func addPage(_ iop: UnsafeMutablePointer<io_pgtable>, gather: UnsafeMutablePointer<iommu_iotlb_gather>?,
                        iova: UInt64, granule: UInt64) {
        if let tlb = iop.pointee.cfg.tlb, let f = tlb.pointee.tlb_add_page {
            f(gather, CUnsignedLong(iova), Int(granule), iop.pointee.cookie)
        }
    }

    static func all(_ iop: UnsafeMutablePointer<io_pgtable>) {
        if let tlb = iop.pointee.cfg.tlb, let f = tlb.pointee.tlb_flush_all { f(iop.pointee.cookie) }
    }
}
