// The Apple DART formats: two levels below up to four TTBRs, one page size (4K or 16K), no blocks; DART1
// keeps PA[35:12] in place, DART2 stores PA >> 4 in bits [37:10]. Kernel: drivers/iommu/io-pgtable-dart.c.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// Descriptor bits. Kernel: the `APPLE_DART*` macros of io-pgtable-dart.c.
enum DART {
    static let dart1MaxAddressBits = 36
    static let maxTables = 4
    static let levels = 2

    static let subpageStart = genmask(63, 52)     // first sub-page unit the device may touch
    static let subpageEnd = genmask(51, 40)       // last sub-page unit the device may touch
    static let dart1AddressMask = genmask(35, 12)
    static let dart2AddressMask = genmask(37, 10)
    static let dart2AddressShift: UInt64 = 4

    static let dart1NoRead: UInt64 = 1 << 8
    static let dart1NoWrite: UInt64 = 1 << 7
    static let dart1SubpageDisable: UInt64 = 1 << 1
    static let dart2NoRead: UInt64 = 1 << 3
    static let dart2NoWrite: UInt64 = 1 << 2
    static let dart2NoCache: UInt64 = 1 << 1
    static let valid: UInt64 = 1 << 0
}

/// An Apple DART table. Kernel: `struct dart_io_pgtable` (tbl_bits, bits_per_level, pgd[]).
public final class AppleDARTTable: PageTableFormat {
    let context: TableContext
    let isDART2: Bool
    let ias: UInt32
    let oas: UInt32
    let pageSize: UInt64
    let bitsPerLevel: Int
    let tableBits: Int
    let tableBytes: Int
    /// The level-1 tables, one per TTBR (physical addresses and pointers).
    let pgdPA: (UInt64, UInt64, UInt64, UInt64)
    let pgd: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)

    @inline(__always) func top(_ i: Int) -> UnsafeMutableRawPointer? {
        switch i {
        case 0: pgd.0
        case 1: pgd.1
        case 2: pgd.2
        default: pgd.3
        }
    }

    @inline(__always) func topPA(_ i: Int) -> UInt64 {
        switch i {
        case 0: pgdPA.0
        case 1: pgdPA.1
        case 2: pgdPA.2
        default: pgdPA.3
        }
    }

    /// Kernel: `dart_get_table`, `dart_get_l1_index`, `dart_get_l2_index`.
    @inline(__always) func tableIndex(_ iova: UInt64) -> Int {
        Int(truncatingIfNeeded: (iova >> UInt64(3 * bitsPerLevel + 3)) & ((1 << UInt64(tableBits)) - 1))
    }
    @inline(__always) func l1Index(_ iova: UInt64) -> Int {
        Int(truncatingIfNeeded: (iova >> UInt64(2 * bitsPerLevel + 3)) & ((1 << UInt64(bitsPerLevel)) - 1))
    }
    @inline(__always) func l2Index(_ iova: UInt64) -> Int {
        Int(truncatingIfNeeded: (iova >> UInt64(bitsPerLevel + 3)) & ((1 << UInt64(bitsPerLevel)) - 1))
    }

    /// Kernel: `paddr_to_iopte`.
    @inline(__always) func paddrToPTE(_ pa: UInt64) -> UInt64 {
        isDART2 ? (pa >> DART.dart2AddressShift) & DART.dart2AddressMask : pa & DART.dart1AddressMask
    }

    /// Kernel: `iopte_to_paddr`.
    @inline(__always) func pteToPaddr(_ pte: UInt64) -> UInt64 {
        isDART2 ? (pte & DART.dart2AddressMask) << DART.dart2AddressShift : pte & DART.dart1AddressMask
    }

    // MARK: Allocation. Kernel: apple_dart_alloc_pgtable, dart_alloc_pgtable.

    init(format fmt: io_pgtable_fmt, config cfg: inout io_pgtable_cfg, context: TableContext) throws(Errno) {
        // Linux's DART format ignores quirks; swiommu rejects those it does not implement (all of them).
        guard cfg.quirks == 0 else { throw .invalid }
        guard cfg.coherent_walk else { throw .invalid }
        guard cfg.oas == 36 || cfg.oas == 42 else { throw .invalid }
        guard cfg.ias <= cfg.oas else { throw .invalid }
        guard cfg.pgsize_bitmap == UInt(Size.k4) || cfg.pgsize_bitmap == UInt(Size.k16) else { throw .invalid }
        // DART2 descriptors hold PA[41:14] (bits [37:10] of PA >> 4): a 4K page or table cannot be described.
        // Linux accepts the configuration and drops PA bits 13:12; swiommu refuses it.
        guard fmt != APPLE_DART2 || cfg.pgsize_bitmap == UInt(Size.k16) else { throw .invalid }
        let pgShift = UInt64(cfg.pgsize_bitmap).lowestBit
        let bpl = pgShift - 3
        let vaBits = Int(cfg.ias) - pgShift
        let tableBits = max(0, vaBits - bpl * DART.levels)
        guard 1 << tableBits <= DART.maxTables else { throw .invalid }

        let bytes = 1 << pgShift
        var pas: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var pointers: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
            = (nil, nil, nil, nil)
        for i in 0..<(1 << tableBits) {
            guard let (pa, pointer) = context.allocateTable(bytes: bytes, gfp: .kernel, site: PageTableSite.dartTable) else {
                for (pa, p) in [(pas.0, pointers.0), (pas.1, pointers.1), (pas.2, pointers.2)] {
                    if let p { context.freeTable(pa: pa, pointer: p, bytes: bytes) }
                }
                throw .noMemory
            }
            switch i {
            case 0: (pas.0, pointers.0) = (pa, pointer)
            case 1: (pas.1, pointers.1) = (pa, pointer)
            case 2: (pas.2, pointers.2) = (pa, pointer)
            default: (pas.3, pointers.3) = (pa, pointer)
            }
        }
        cfg.apple_dart_cfg.n_ttbrs = UInt32(1 << tableBits)
        let count = 1 << tableBits
        withUnsafeMutableBytes(of: &cfg.apple_dart_cfg.ttbr) {
            for (i, pa) in [pas.0, pas.1, pas.2, pas.3].enumerated() where i < count {
                $0.storeBytes(of: pa, toByteOffset: i * 8, as: UInt64.self)
            }
        }
        self.context = context
        isDART2 = fmt == APPLE_DART2
        ias = cfg.ias
        oas = cfg.oas
        pageSize = UInt64(cfg.pgsize_bitmap)
        bitsPerLevel = bpl
        self.tableBits = tableBits
        tableBytes = bytes
        pgdPA = pas
        pgd = pointers
    }

    // MARK: Protection. Kernel: dart_prot_to_pte.

    @inline(__always)
    func protToPTE(_ prot: Int32) -> UInt64 {
        var pte: UInt64 = 0
        if !isDART2 {
            pte |= DART.dart1SubpageDisable
            if prot & IOMMUProt.write.rawValue == 0 { pte |= DART.dart1NoWrite }
            if prot & IOMMUProt.read.rawValue == 0 { pte |= DART.dart1NoRead }
        } else {
            if prot & IOMMUProt.write.rawValue == 0 { pte |= DART.dart2NoWrite }
            if prot & IOMMUProt.read.rawValue == 0 { pte |= DART.dart2NoRead }
            if prot & IOMMUProt.cache.rawValue == 0 { pte |= DART.dart2NoCache }
        }
        return pte
    }

    // MARK: map. Kernel: dart_map_pages, dart_init_pte.

    func map(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, pageSize size: UInt64,
                      count: Int, prot: Int32, gfp: GFP, mapped: inout Int) throws(Errno) {
        guard size == pageSize else {
            coldWarn("dart_map_pages: page size \(Kernel.hex(size)) is not \(Kernel.hex(pageSize))")
            throw .invalid
        }
        guard paddr >> UInt64(oas) == 0 else {
            coldWarn("dart_map_pages: paddr \(Kernel.hex(paddr)) out of range (oas \(oas))")
            throw .range
        }
        guard prot & (IOMMUProt.read.rawValue | IOMMUProt.write.rawValue) != 0 else { throw .invalid }
        // Checked by Linux's iommu core (the domain aperture), not by io-pgtable-dart.c, which would wrap.
        guard iova >> UInt64(ias) == 0 else {
            coldWarn("dart_map_pages: iova \(Kernel.hex(iova)) out of range (ias \(ias))")
            throw .range
        }
        guard (iova | paddr) & (pageSize &- 1) == 0 else {
            coldWarn("dart_map_pages: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) "
                        + "not aligned to \(Kernel.hex(pageSize))")
            throw .invalid
        }
        guard count > 0 else { return }
        defer { swiommu_pgt_wmb() }
        let tbl = tableIndex(iova)
        guard let l1 = top(tbl) else { throw .invalid }
        let ptep = l1.assumingMemoryBound(to: UInt64.self) + l1Index(iova)
        var pte = swiommu_pgt_load64_acquire(ptep)
        // No L2 table present.
        if pte == 0 {
            guard let (pa, pointer) = context.allocateTable(bytes: tableBytes, gfp: gfp, site: PageTableSite.dartTable) else {
                throw .noMemory
            }
            // swiommu: a PTE holds only so many address bits. Above them (RAM beyond the DART's reach) the kernel
            // would write a truncated table address; here the table goes back and the map fails.
            guard pteToPaddr(paddrToPTE(pa)) == pa else {
                context.freeTable(pa: pa, pointer: pointer, bytes: tableBytes)
                coldWarn("dart_map_pages: a table at \(Kernel.hex(pa)) is beyond the DART's address bits")
                throw .noMemory
            }
            let new = paddrToPTE(pa) | DART.valid
            // Ensure the table itself is visible before its PTE can be.
            swiommu_pgt_wmb()
            if swiommu_pgt_cmpxchg64(ptep, 0, new) != 0 { context.freeTable(pa: pa, pointer: pointer, bytes: tableBytes) }
            // L2 table is present (now).
            pte = swiommu_pgt_load64_acquire(ptep)
        }
        guard let l2 = context.pointer(pteToPaddr(pte)) else {
            coldWarn("dart_map_pages: table entry \(Kernel.hex(pte)) points outside RAM (corrupted table)")
            throw .fault
        }
        let idx = l2Index(iova)
        let n = min(count, (1 << bitsPerLevel) - idx)
        let leaves = l2.assumingMemoryBound(to: UInt64.self) + idx
        for i in 0..<n where leaves[i] & DART.valid != 0 {
            // We require an unmap first.
            coldWarn("dart_map_pages: iova \(Kernel.hex(iova &+ UInt64(i) &* pageSize)) is already mapped")
            throw .exists
        }
        // Subpage protection: always allow access to the entire page.
        let leaf = protToPTE(prot) | (0 << UInt64(DART.subpageStart.lowestBit)) | (0xfff << UInt64(DART.subpageEnd.lowestBit))
            | DART.valid
        var pa = paddr
        for i in 0..<n {
            leaves[i] = leaf | paddrToPTE(pa)
            pa &+= pageSize
        }
        mapped &+= n &* Int(pageSize)
    }

    // MARK: unmap. Kernel: dart_unmap_pages.

    func unmap(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, pageSize size: UInt64, count: Int,
                        gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> UInt64 {
        guard size == pageSize && count > 0 else {
            coldWarn("dart_unmap_pages: page size \(Kernel.hex(size)) x \(count) (page size \(Kernel.hex(pageSize)))")
            return 0
        }
        guard iova >> UInt64(ias) == 0 && iova & (pageSize &- 1) == 0 else {
            coldWarn("dart_unmap_pages: iova \(Kernel.hex(iova)) out of range or not aligned")
            return 0
        }
        // Valid L2 IOPTE pointer?
        guard let l2 = level2(iova) else {
            coldWarn("dart_unmap_pages: iova \(Kernel.hex(iova)) has no level-2 table")
            return 0
        }
        let idx = l2Index(iova)
        let n = min(count, (1 << bitsPerLevel) - idx)
        let leaves = l2.assumingMemoryBound(to: UInt64.self) + idx
        var i = 0
        while i < n {
            if leaves[i] == 0 {
                coldWarn("dart_unmap_pages: iova \(Kernel.hex(iova &+ UInt64(i) &* pageSize)) is not mapped")
                break
            }
            leaves[i] = 0
            if !(gather?.pointee.queued ?? false) {
                Flush.addPage(iop, gather: gather, iova: iova &+ UInt64(i) &* pageSize, granule: pageSize)
            }
            i += 1
        }
        return UInt64(i) &* pageSize
    }

    /// Kernel: `dart_get_l2`.
    @inline(__always)
    func level2(_ iova: UInt64) -> UnsafeMutableRawPointer? {
        guard let l1 = top(tableIndex(iova)) else { return nil }
        let pte = swiommu_pgt_load64_acquire(l1.assumingMemoryBound(to: UInt64.self) + l1Index(iova))
        // Valid entry?
        guard pte != 0 else { return nil }
        return context.pointer(pteToPaddr(pte))
    }

    // MARK: iova_to_phys. Kernel: dart_iova_to_phys.

    @inline(__always)
    func iovaToPhys(_ iova: UInt64) -> UInt64 {
        guard let l2 = level2(iova) else { return 0 }
        let pte = l2.load(fromByteOffset: l2Index(iova) &<< 3, as: UInt64.self)
        guard pte != 0 else { return 0 }
        return pteToPaddr(pte) | (iova & (pageSize &- 1))
    }

    /// Kernel: `apple_dart_free_pgtable` (L2 tables are only freed here).
    func destroy() {
        for i in 0..<(1 << tableBits) {
            guard let l1 = top(i) else { break }
            let entries = l1.assumingMemoryBound(to: UInt64.self)
            for j in 0..<(tableBytes >> 3) where entries[j] != 0 {
                let pa = pteToPaddr(entries[j])
                if let p = context.pointer(pa) { context.freeTable(pa: pa, pointer: p, bytes: tableBytes) }
            }
            context.freeTable(pa: topPA(i), pointer: l1, bytes: tableBytes)
        }
    }

    // MARK: Dump

    func dump(into out: inout String) {
        out += "\(isDART2 ? "APPLE_DART2" : "APPLE_DART"): ias \(ias), oas \(oas), page size \(pageSize >> 10)K, "
            + "\(1 << tableBits) TTBR(s)\n"
        let l1Span = UInt64(1) << UInt64(2 * bitsPerLevel + 3)
        for t in 0..<(1 << tableBits) {
            guard let l1 = top(t) else { continue }
            out += "TTBR\(t) \(Kernel.hex(topPA(t)))\n"
            let entries = l1.assumingMemoryBound(to: UInt64.self)
            for i in 0..<(1 << bitsPerLevel) where entries[i] != 0 {
                let start = (UInt64(t) << UInt64(3 * bitsPerLevel + 3)) | (UInt64(i) * l1Span)
                let pa = pteToPaddr(entries[i])
                out += "  L1[\(DumpFormat.index(i))] \(DumpFormat.hex64(start))-\(DumpFormat.hex64(start &+ l1Span &- 1)) "
                    + "\(DumpFormat.hex64(entries[i])) table -> \(Kernel.hex(pa))\n"
                guard let l2 = context.pointer(pa) else { continue }
                let leaves = l2.assumingMemoryBound(to: UInt64.self)
                for j in 0..<(1 << bitsPerLevel) where leaves[j] != 0 {
                    let at = start | (UInt64(j) * pageSize)
                    var flags = ""
                    let noRead = isDART2 ? DART.dart2NoRead : DART.dart1NoRead
                    let noWrite = isDART2 ? DART.dart2NoWrite : DART.dart1NoWrite
                    flags += leaves[j] & noRead == 0 ? "r" : "-"
                    flags += leaves[j] & noWrite == 0 ? "w" : "-"
                    out += "    L2[\(DumpFormat.index(j))] \(DumpFormat.hex64(at))-\(DumpFormat.hex64(at &+ pageSize &- 1)) "
                        + "\(DumpFormat.hex64(leaves[j])) page -> \(Kernel.hex(pteToPaddr(leaves[j]))) \(flags)\n"
                }
            }
        }
    }
}
