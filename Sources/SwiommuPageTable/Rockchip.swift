// The Rockchip IOMMU's two-level table (a 4 KiB directory of 1024 DTEs, page tables of 1024 PTEs, 4 KiB pages),
// v1 with 32-bit addresses and v2 with 40-bit addresses packed into bits [11:4], written as the driver writes
// it. Not an io-pgtable format: the driver owns its tables. Kernel: drivers/iommu/rockchip-iommu.c.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// The two entry formats. Kernel: `iommu_data_ops_v1` and `iommu_data_ops_v2` (`struct rk_iommu_ops`).
public enum RockchipIOMMUVersion: Sendable {
    /// "rockchip,iommu": 32-bit physical addresses, tables from ZONE_DMA32.
    case v1
    /// "rockchip,iommu-v2", "rockchip,rk3568-iommu": 40-bit physical addresses, tables from anywhere.
    case v2

    /// The version a compatible string selects; nil for one the driver does not match.
    public init?(compatible: String) {
        switch compatible {
        case "rockchip,iommu": self = .v1
        case "rockchip,iommu-v2", "rockchip,rk3568-iommu": self = .v2
        default: return nil
        }
    }

    /// Kernel: `rk_ops->dma_bit_mask`: DMA_BIT_MASK(32) or DMA_BIT_MASK(40).
    public var physicalBits: Int { self == .v1 ? 32 : 40 }
}

/// Descriptor layout. Kernel: the `RK_*` macros and `rk_*` helpers of rockchip-iommu.c.
public enum Rockchip {
    public static let directoryEntries = 1024            // NUM_DT_ENTRIES
    public static let pageTableEntries = 1024            // NUM_PT_ENTRIES
    public static let pageSize: UInt64 = 1 << 12         // SPAGE_SIZE
    /// Any size that fits in one page table, 4 KiB to 4 MiB. Kernel: `RK_IOMMU_PGSIZE_BITMAP`.
    public static let pageSizes: UInt64 = 0x007f_f000
    public static let tableBytes = 4096

    public static let dteValid: UInt32 = 1 << 0          // RK_DTE_PT_VALID
    public static let pteValid: UInt32 = 1 << 0          // RK_PTE_PAGE_VALID
    public static let pteReadable: UInt32 = 1 << 1       // RK_PTE_PAGE_READABLE
    public static let pteWritable: UInt32 = 1 << 2       // RK_PTE_PAGE_WRITABLE
    public static let pteFlagsMask: UInt32 = 0x1fe       // RK_PTE_PAGE_FLAGS_MASK
    static let addressMask: UInt64 = 0xffff_f000         // RK_DTE_PT_ADDRESS_MASK, RK_PTE_PAGE_ADDRESS_MASK
    static let addressMaskV2: UInt64 = 0xffff_fff0       // RK_DTE_PT_ADDRESS_MASK_V2 = GENMASK_ULL(31, 4)

    /// IOVA bits [31:22] index the directory, [21:12] the page table. Kernel: `rk_iova_dte_index`,
    /// `rk_iova_pte_index`.
    @inline(__always) public static func directoryIndex(_ iova: UInt64) -> Int { Int((iova & 0xffc0_0000) >> 22) }
    @inline(__always) public static func pageTableIndex(_ iova: UInt64) -> Int { Int((iova & 0x003f_f000) >> 12) }

    /// Kernel: `rk_dte_pt_address` (v1) and `rk_dte_pt_address_v2`: the address in a DTE, a PTE or the
    /// DTE_ADDR register. v2 keeps PA[35:32] in bits [11:8] and PA[39:36] in bits [7:4].
    @inline(__always) public static func address(_ entry: UInt32, _ version: RockchipIOMMUVersion) -> UInt64 {
        let e = UInt64(entry)
        switch version {
        case .v1: return e & addressMask
        case .v2: return ((e & 0xf0) << 32) | ((e & 0xf00) << 24) | (e & addressMask)
        }
    }

    /// Kernel: `rk_mk_dte` / `rk_mk_dte_v2` (also what `rk_iommu_enable` writes to DTE_ADDR).
    @inline(__always) public static func makeDTE(_ pa: UInt64, _ version: RockchipIOMMUVersion) -> UInt32 {
        switch version {
        case .v1:
            return UInt32(truncatingIfNeeded: pa & addressMask) | dteValid
        case .v2:
            let packed = (pa & addressMask) | ((pa & genmask(35, 32)) >> 24) | ((pa & genmask(39, 36)) >> 32)
            return UInt32(truncatingIfNeeded: packed & addressMaskV2) | dteValid
        }
    }

    /// Kernel: `rk_mk_pte` / `rk_mk_pte_v2`: only IOMMU_READ and IOMMU_WRITE reach the entry.
    @inline(__always) public static func makePTE(_ pa: UInt64, prot: Int32, _ version: RockchipIOMMUVersion) -> UInt32 {
        var flags: UInt32 = 0
        if prot & IOMMUProt.read.rawValue != 0 { flags |= pteReadable }
        if prot & IOMMUProt.write.rawValue != 0 { flags |= pteWritable }
        switch version {
        case .v1: return UInt32(truncatingIfNeeded: pa & addressMask) | flags | pteValid
        case .v2: return makeDTE(pa, .v2) | flags
        }
    }

    /// Kernel: `rk_mk_pte_invalid`: unmapping clears the valid bit only.
    @inline(__always) public static func invalidate(_ pte: UInt32) -> UInt32 { pte & ~pteValid }
}

/// One Rockchip domain's tables: the directory and its page tables. Kernel: `struct rk_iommu_domain`. Not
/// thread-safe: callers hold the domain's `dt_lock`.
public final class RockchipIOMMUTable {
    public let version: RockchipIOMMUVersion
    let store: DriverTableMemory
    var context: TableContext { store.context }
    /// Physical (and DMA) address of the directory: `rk_domain->dt_dma`.
    public let directoryPA: UInt64
    let directory: UnsafeMutablePointer<UInt32>
    private var destroyed = false

    /// Called to shoot down IOTLB lines of `[iova, iova + size)` on every IOMMU attached, for the IOMMU model.
    /// Kernel: `rk_iommu_zap_iova` (first and last page after a map, the unmapped range after an unmap).
    public var zapIOVA: ((_ iova: UInt64, _ size: UInt64) -> Void)?

    /// Kernel: `rk_iommu_domain_alloc_paging`. `coherent`: whether the IOMMU's walks snoop the CPU caches
    /// (they do not on Rockchip SoCs; tables are synced with dma_sync_single_for_device).
    public init(memory: SimulatedMemory, version: RockchipIOMMUVersion, coherent: Bool = false) throws(DriverTableError) {
        self.version = version
        store = DriverTableMemory(memory: memory, coherent: coherent)
        // iommu_alloc_pages_sz(GFP_KERNEL | rk_ops->gfp_flags, SPAGE_SIZE), then dma_map_single.
        guard let (pa, pointer) = Self.allocateTable(store.context, version: version, gfp: .kernel,
                                                     site: DriverTableSite.rockchipDT) else {
            store.release()
            throw .noMemory
        }
        directoryPA = pa
        directory = pointer.bindMemory(to: UInt32.self, capacity: Rockchip.directoryEntries)
    }

    /// What `rk_iommu_enable` writes to RK_MMU_DTE_ADDR: `rk_ops->mk_dtentries(rk_domain->dt_dma)`.
    public var dteAddrRegister: UInt32 { Rockchip.makeDTE(directoryPA, version) }

    /// The DTE covering `iova`, as the CPU sees it.
    public func directoryEntry(_ iova: UInt64) -> UInt32 { directory[Rockchip.directoryIndex(iova)] }

    /// The PTE for `iova`, or nil when its DTE is not valid.
    public func pageTableEntry(_ iova: UInt64) -> UInt32? {
        let dte = directoryEntry(iova)
        guard dte & Rockchip.dteValid != 0, let pt = pageTable(dte) else { return nil }
        return pt[Rockchip.pageTableIndex(iova)]
    }

    public var tableBytes: UInt64 { context.stats.pointee.tableBytes }
    public var tableCount: UInt64 { context.stats.pointee.tables }
    public var syncs: UInt64 { context.stats.pointee.syncs }

    /// A 4 KiB table the IOMMU can address (GFP_DMA32 for v1; v2's dma_map_single needs it below 2^40).
    static func allocateTable(_ context: TableContext, version: RockchipIOMMUVersion, gfp: GFP, site: AllocationSite)
        -> (UInt64, UnsafeMutableRawPointer)? {
        let flags = version == .v1 ? gfp.union(.dma32) : gfp
        guard let (pa, pointer) = context.allocateTable(bytes: Rockchip.tableBytes, gfp: flags, site: site) else { return nil }
        guard pa >> UInt64(version.physicalBits) == 0 else {
            Kernel.log(.error, "rk_iommu: DMA mapping error while allocating page table at \(Kernel.hex(pa))")
            context.freeTable(pa: pa, pointer: pointer, bytes: Rockchip.tableBytes)
            return nil
        }
        return (pa, pointer)
    }

    private func pageTable(_ dte: UInt32) -> UnsafeMutablePointer<UInt32>? {
        context.pointer(Rockchip.address(dte, version))?.assumingMemoryBound(to: UInt32.self)
    }

    /// Kernel: `rk_table_flush`.
    @inline(__always)
    private func flush(_ pa: UInt64, count: Int) {
        if !context.coherent && count > 0 { context.clean(pa, bytes: count * 4) }
    }

    // MARK: map. Kernel: rk_iommu_map, rk_dte_get_page_table, rk_iommu_map_iova.

    /// Map `size` bytes (a power of two from 4 KiB to 4 MiB, inside one page table) at `iova`. Throws
    /// EADDRINUSE when a PTE in the range is valid (after invalidating the ones it wrote, as the driver's
    /// unwind does), ENOMEM; and, from swiommu's checks of what Linux's core guarantees, EINVAL for a size
    /// not in the bitmap or an unaligned address, ERANGE for an IOVA past 32 bits or a PA past the version's.
    public func map(iova: UInt64, paddr: UInt64, size: UInt64, prot: Int32) throws(DriverTableError) {
        guard size & Rockchip.pageSizes == size && size != 0 && size & (size - 1) == 0 else {
            coldWarn("rk_iommu_map: size \(Kernel.hex(size)) is not one of \(Kernel.hex(Rockchip.pageSizes))")
            throw .invalid
        }
        guard (iova | paddr) & (size - 1) == 0 else {
            coldWarn("rk_iommu_map: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) not aligned to \(Kernel.hex(size))")
            throw .invalid
        }
        guard iova >> 32 == 0, paddr >> UInt64(version.physicalBits) == 0 else {
            coldWarn("rk_iommu_map: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) out of the IOMMU's reach")
            throw .range
        }
        let pageTable = try pageTableFor(iova)
        let dte = directory[Rockchip.directoryIndex(iova)]
        let pteIndex = Rockchip.pageTableIndex(iova)
        let pteAddr = pageTable + pteIndex
        let pteDMA = Rockchip.address(dte, version) + UInt64(pteIndex * 4)
        let total = Int(size / Rockchip.pageSize)
        var pa = paddr
        for count in 0..<total {
            guard pteAddr[count] & Rockchip.pteValid == 0 else {
                // Unwind: invalidate what was just written.
                _ = unmapPTEs(pteAddr, pteDMA: pteDMA, total: count)
                Kernel.log(.error, "iova: \(Kernel.hex(iova + UInt64(count) * Rockchip.pageSize)) already mapped to "
                           + "\(Kernel.hex(Rockchip.address(pteAddr[count], version))) cannot remap to phys: "
                           + "\(Kernel.hex(pa)) prot: \(Kernel.hex(UInt32(bitPattern: prot)))")
                throw .addressInUse
            }
            pteAddr[count] = Rockchip.makePTE(pa, prot: prot, version)
            pa += Rockchip.pageSize
        }
        flush(pteDMA, count: total)
        // rk_iommu_zap_iova_first_last: only the first and last page can share a cached DTE/PTE with an
        // existing mapping.
        zapIOVA?(iova, Rockchip.pageSize)
        if size > Rockchip.pageSize { zapIOVA?(iova + size - Rockchip.pageSize, Rockchip.pageSize) }
    }

    private func pageTableFor(_ iova: UInt64) throws(DriverTableError) -> UnsafeMutablePointer<UInt32> {
        let index = Rockchip.directoryIndex(iova)
        var dte = directory[index]
        if dte & Rockchip.dteValid == 0 {
            // iommu_alloc_pages_sz(GFP_ATOMIC | rk_ops->gfp_flags, SPAGE_SIZE), dma_map_single.
            guard let (pa, _) = Self.allocateTable(context, version: version, gfp: .atomic,
                                                   site: DriverTableSite.rockchipPT) else { throw .noMemory }
            dte = Rockchip.makeDTE(pa, version)
            directory[index] = dte
            flush(directoryPA + UInt64(index * 4), count: 1)
        }
        guard let pt = pageTable(dte) else {
            coldWarn("rk_iommu_map: DTE \(Kernel.hex(dte)) points outside RAM (corrupted table)")
            throw .invalid
        }
        return pt
    }

    /// Kernel: `rk_iommu_unmap_iova`: invalidate up to `total` PTEs, stopping at the first invalid one.
    private func unmapPTEs(_ pteAddr: UnsafeMutablePointer<UInt32>, pteDMA: UInt64, total: Int) -> Int {
        var count = 0
        while count < total {
            let pte = pteAddr[count]
            if pte & Rockchip.pteValid == 0 { break }
            pteAddr[count] = Rockchip.invalidate(pte)
            count += 1
        }
        flush(pteDMA, count: count)
        return count
    }

    // MARK: unmap. Kernel: rk_iommu_unmap.

    /// Unmap up to `size` bytes from `iova`, returning the bytes unmapped: 0 when the DTE is not valid; else the
    /// PTEs up to the first invalid one. swiommu returns 0 (with a WARN) for a size not in the bitmap, an
    /// unaligned iova, or one past 32 bits.
    public func unmap(iova: UInt64, size: UInt64) -> UInt64 {
        guard size & Rockchip.pageSizes == size && size != 0 && size & (size - 1) == 0,
              iova & (size - 1) == 0, iova >> 32 == 0 else {
            coldWarn("rk_iommu_unmap: iova \(Kernel.hex(iova)) and size \(Kernel.hex(size)) are not a page of the table")
            return 0
        }
        let dte = directory[Rockchip.directoryIndex(iova)]
        // Just return 0 if iova is unmapped.
        guard dte & Rockchip.dteValid != 0, let pt = pageTable(dte) else { return 0 }
        let index = Rockchip.pageTableIndex(iova)
        let pteDMA = Rockchip.address(dte, version) + UInt64(index * 4)
        let count = unmapPTEs(pt + index, pteDMA: pteDMA, total: Int(size / Rockchip.pageSize))
        let unmapped = UInt64(count) * Rockchip.pageSize
        // Shootdown iotlb entries for the range just unmapped.
        zapIOVA?(iova, unmapped)
        return unmapped
    }

    // MARK: iova_to_phys. Kernel: rk_iommu_iova_to_phys.

    /// 0 when unmapped (and for an IOVA past 32 bits, outside the domain's aperture).
    public func iovaToPhys(_ iova: UInt64) -> UInt64 {
        guard iova >> 32 == 0 else { return 0 }
        let dte = directory[Rockchip.directoryIndex(iova)]
        guard dte & Rockchip.dteValid != 0, let pt = pageTable(dte) else { return 0 }
        let pte = pt[Rockchip.pageTableIndex(iova)]
        guard pte & Rockchip.pteValid != 0 else { return 0 }
        return Rockchip.address(pte, version) + (iova & 0xfff)
    }

    // MARK: free. Kernel: rk_iommu_domain_free.

    /// Free every page table and the directory. Idempotent.
    public func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for i in 0..<Rockchip.directoryEntries where directory[i] & Rockchip.dteValid != 0 {
            let pa = Rockchip.address(directory[i], version)
            if let p = context.pointer(pa) { context.freeTable(pa: pa, pointer: p, bytes: Rockchip.tableBytes) }
        }
        context.freeTable(pa: directoryPA, pointer: UnsafeMutableRawPointer(directory), bytes: Rockchip.tableBytes)
        store.release()
    }

    // MARK: Dump

    /// One line per valid DTE and per valid PTE.
    public func dump(into out: inout String) {
        let walk = context.coherent ? "coherent walk" : "non-coherent walk"
        out += "ROCKCHIP_IOMMU \(version): dt \(Kernel.hex(directoryPA)), DTE_ADDR \(DumpFormat.hex32(dteAddrRegister)), \(walk)\n"
        for i in 0..<Rockchip.directoryEntries where directory[i] & Rockchip.dteValid != 0 {
            let dte = directory[i]
            let start = UInt64(i) << 22
            out += "DTE[\(i)] \(DumpFormat.hex64(start))-\(DumpFormat.hex64(start + (1 << 22) - 1)) \(DumpFormat.hex32(dte)) "
                + "table -> \(Kernel.hex(Rockchip.address(dte, version)))\n"
            guard let pt = pageTable(dte) else { continue }
            for j in 0..<Rockchip.pageTableEntries where pt[j] & Rockchip.pteValid != 0 {
                let at = start + (UInt64(j) << 12)
                let r = pt[j] & Rockchip.pteReadable != 0 ? "r" : "-", w = pt[j] & Rockchip.pteWritable != 0 ? "w" : "-"
                out += "  PTE[\(j)] \(DumpFormat.hex64(at)) \(DumpFormat.hex32(pt[j])) \(r)\(w) -> "
                    + "\(Kernel.hex(Rockchip.address(pt[j], version)))\n"
            }
        }
    }
}
