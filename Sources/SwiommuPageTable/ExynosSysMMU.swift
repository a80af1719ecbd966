// The Samsung Exynos SysMMU's own two-level table (1 MiB sections, 64 KiB large and 4 KiB small pages, the shared
// zero level-2 table, v5+ entries holding PA >> 4), written as the driver writes it. Not an io-pgtable format:
// the driver owns its tables, so these classes take no io_pgtable_cfg. Kernel: drivers/iommu/exynos-iommu.c.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// Errors of the driver-owned table formats (Exynos, Rockchip). They need EADDRINUSE, which `Errno` lacks.
public struct DriverTableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The positive errno value.
    public let errno: Int32
    public init(errno: Int32) { self.errno = errno }
    public static let noMemory = DriverTableError(errno: Errno.noMemory.rawValue)   // ENOMEM
    public static let invalid = DriverTableError(errno: Errno.invalid.rawValue)     // EINVAL
    public static let range = DriverTableError(errno: Errno.range.rawValue)         // ERANGE
    public static let addressInUse = DriverTableError(errno: 98)                    // EADDRINUSE
    /// The kernel's return value: `-errno`.
    public var negated: Int32 { -errno }
    public var description: String {
        switch errno {
        case 98: "EADDRINUSE"
        case 12: "ENOMEM"
        case 22: "EINVAL"
        case 34: "ERANGE"
        default: "errno \(errno)"
        }
    }
}

/// Simulated RAM as a driver-owned table sees it: a `TableContext` with its own bookkeeping, as io-pgtable
/// tables have inside their box. Holds the memory retained until `release()`.
final class DriverTableMemory {
    let common: UnsafeMutablePointer<PageTableCommon>
    let context: TableContext

    init(memory: SimulatedMemory, coherent: Bool) {
        common = .allocate(capacity: 1)
        // The family only routes io-pgtable calls; these tables are never reached through io_pgtable_ops.
        common.initialize(to: PageTableCommon(family: .armV7S, splitBlocks: false, stats: TableStatistics()))
        context = TableContext(owner: .passRetained(memory), banks: memory.physical.banks.baseAddress!,
                               bankCount: memory.physical.banks.count, pageShift: memory.geometry.shift,
                               coherent: coherent, customAlloc: nil, customFree: nil, cookie: nil, common: common)
    }

    var memory: SimulatedMemory { context.memory }
    var statistics: TableStatistics { common.pointee.stats }

    func release() {
        context.owner.release()
        common.deinitialize(count: 1)
        common.deallocate()
    }
}

/// Sites for the leak report, named for the kernel's allocation.
enum DriverTableSite {
    nonisolated(unsafe) static let exynosLV1 = make("exynos_iommu_domain_alloc_paging")
    nonisolated(unsafe) static let exynosLV2 = make("alloc_lv2entry")
    nonisolated(unsafe) static let exynosZero = make("exynos_iommu_init")
    nonisolated(unsafe) static let rockchipDT = make("rk_iommu_domain_alloc_paging")
    nonisolated(unsafe) static let rockchipPT = make("rk_dte_get_page_table")

    private static func make(_ function: String, file: StaticString = #fileID, line: Int = #line) -> AllocationSite {
        let site = UnsafeMutablePointer<swiommu_alloc_site>.allocate(capacity: 1)
        let fileName = file.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        site.initialize(to: swiommu_alloc_site(file: strdup(fileName), func: strdup(function), line: Int32(line)))
        return UnsafeRawPointer(site)
    }
}

/// Descriptor layout. Kernel: the macros at the top of exynos-iommu.c.
public enum ExynosSysMMU {
    public static let sectionOrder = 20, largePageOrder = 16, smallPageOrder = 12     // SECT_ORDER ...
    public static let sectionSize: UInt64 = 1 << 20                                   // SECT_SIZE
    public static let largePageSize: UInt64 = 1 << 16                                 // LPAGE_SIZE
    public static let smallPageSize: UInt64 = 1 << 12                                 // SPAGE_SIZE
    /// `domain->domain.pgsize_bitmap`.
    public static let pageSizes: UInt64 = sectionSize | largePageSize | smallPageSize
    public static let lv1Entries = 4096                                               // NUM_LV1ENTRIES
    public static let lv2Entries = 256                                                // NUM_LV2ENTRIES
    public static let lv1Bytes = 4096 * 4                                             // LV1TABLE_SIZE
    public static let lv2Bytes = 256 * 4                                              // LV2TABLE_SIZE
    public static let smallPagesPerLargePage = 16                                     // SPAGES_PER_LPAGE

    /// Kernel: `PG_ENT_SHIFT`: 0 (`SYSMMU_PG_ENT_SHIFT`) before v5, 4 (`SYSMMU_V5_PG_ENT_SHIFT`) from v5.
    @inline(__always) public static func entryShift(majorVersion: Int) -> UInt64 { majorVersion < 5 ? 0 : 4 }

    /// Kernel: `SYSMMU_LV1_PROT` / `SYSMMU_V5_LV1_PROT`, indexed by `prot & (IOMMU_READ | IOMMU_WRITE)`.
    /// Before v5 bit 15 is AP[2] (read-only) and bit 10 AP[0] (access); write-only maps read/write.
    public static func lv1Prot(_ prot: Int32, majorVersion: Int) -> UInt32 {
        let p = UInt32(prot & 3)
        if majorVersion >= 5 { return p << 4 }
        switch p {
        case 0: return 0
        case 1: return (1 << 15) | (1 << 10)
        default: return 1 << 10
        }
    }

    /// Kernel: `SYSMMU_LV2_PROT` / `SYSMMU_V5_LV2_PROT`: bit 9 AP[2], bit 4 AP[0]; from v5 bits [3:2].
    public static func lv2Prot(_ prot: Int32, majorVersion: Int) -> UInt32 {
        let p = UInt32(prot & 3)
        if majorVersion >= 5 { return p << 2 }
        switch p {
        case 0: return 0
        case 1: return (1 << 9) | (1 << 4)
        default: return 1 << 4
        }
    }

    /// Kernel: `mk_lv1ent_sect(pa, prot)`.
    @inline(__always) public static func makeSection(_ pa: UInt64, prot: Int32, majorVersion: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: pa >> entryShift(majorVersion: majorVersion)) | lv1Prot(prot, majorVersion: majorVersion) | 2
    }

    /// Kernel: `mk_lv1ent_page(pa)`: a link to a level-2 table.
    @inline(__always) public static func makeTableLink(_ pa: UInt64, majorVersion: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: pa >> entryShift(majorVersion: majorVersion)) | 1
    }

    /// Kernel: `mk_lv2ent_lpage(pa, prot)`.
    @inline(__always) public static func makeLargePage(_ pa: UInt64, prot: Int32, majorVersion: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: pa >> entryShift(majorVersion: majorVersion)) | lv2Prot(prot, majorVersion: majorVersion) | 1
    }

    /// Kernel: `mk_lv2ent_spage(pa, prot)`.
    @inline(__always) public static func makeSmallPage(_ pa: UInt64, prot: Int32, majorVersion: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: pa >> entryShift(majorVersion: majorVersion)) | lv2Prot(prot, majorVersion: majorVersion) | 2
    }

    /// Kernel: `sect_to_phys(ent)`.
    @inline(__always) static func toPhys(_ ent: UInt32, _ shift: UInt64) -> UInt64 { UInt64(ent) << shift }
    /// Kernel: `lv2table_base(sent)`.
    @inline(__always) static func lv2Base(_ ent: UInt32, _ shift: UInt64) -> UInt64 { toPhys(ent & 0xffff_ffc0, shift) }
    @inline(__always) static func isSection(_ ent: UInt32) -> Bool { ent & 3 == 2 }    // lv1ent_section
    @inline(__always) static func lv2IsFault(_ ent: UInt32) -> Bool { ent & 3 == 0 }   // lv2ent_fault
    @inline(__always) static func lv2IsSmall(_ ent: UInt32) -> Bool { ent & 2 == 2 }   // lv2ent_small
    @inline(__always) static func lv2IsLarge(_ ent: UInt32) -> Bool { ent & 3 == 1 }   // lv2ent_large

    /// The physical-address bits an entry can hold: 32 before v5, 36 from v5.
    @inline(__always) public static func physicalBits(majorVersion: Int) -> Int { majorVersion < 5 ? 32 : 36 }

    /// What `__sysmmu_set_ptbase` writes to the page-table base register: the LV1 address, or from v5 its
    /// address >> 12.
    @inline(__always) public static func ptBaseRegister(_ pgd: UInt64, majorVersion: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: majorVersion < 5 ? pgd : pgd >> UInt64(smallPageOrder))
    }
}

/// The driver-wide state of exynos-iommu: the entry format every SysMMU in the system shares (`PG_ENT_SHIFT`,
/// `LV1_PROT`, `LV2_PROT`, fixed by the first SysMMU probed), the zero level-2 table every empty LV1 entry of
/// every domain links to (`zero_lv2_table`, from `exynos_iommu_init`) and the `dma_dev` the tables are synced
/// on. Linux never frees the zero table; swiommu frees it in `close()`, after the last domain.
public final class ExynosSysMMUDriver {
    /// `MMU_MAJ_VER(data->version)` of the first SysMMU.
    public let majorVersion: Int
    let shift: UInt64
    let store: DriverTableMemory
    /// Physical address of `zero_lv2_table`.
    public let zeroTablePA: UInt64
    let zeroTable: UnsafeMutableRawPointer
    /// Domains not yet destroyed.
    public private(set) var liveDomains = 0
    private var closed = false

    /// Kernel: `exynos_iommu_init` (the zero table) and the `PG_ENT_SHIFT` choice in `exynos_sysmmu_probe`.
    /// `coherent`: whether the SysMMU's walks snoop the CPU caches (they do not on Exynos; tables are synced).
    public init(memory: SimulatedMemory, majorVersion: Int, coherent: Bool = false) throws(DriverTableError) {
        self.majorVersion = majorVersion
        shift = ExynosSysMMU.entryShift(majorVersion: majorVersion)
        store = DriverTableMemory(memory: memory, coherent: coherent)
        // kmem_cache_zalloc(lv2table_kmem_cache, GFP_KERNEL): 1 KiB, 1 KiB aligned, addressable by the entry.
        guard let (pa, pointer) = Self.allocateLV2(store.context, gfp: .kernel, majorVersion: majorVersion,
                                                   site: DriverTableSite.exynosZero) else {
            store.release()
            throw .noMemory
        }
        zeroTablePA = pa
        zeroTable = pointer
    }

    /// Kernel: `ZERO_LV2LINK`.
    public var zeroLink: UInt32 { ExynosSysMMU.makeTableLink(zeroTablePA, majorVersion: majorVersion) }

    /// Kernel: `exynos_iommu_domain_alloc_paging`.
    public func makeDomain() throws(DriverTableError) -> ExynosSysMMUTable {
        guard !closed else { throw .invalid }
        let table = try ExynosSysMMUTable(driver: self)
        liveDomains += 1
        return table
    }

    func domainDestroyed() { liveDomains -= 1 }

    /// Free the zero table. Refused (false, with a WARN) while domains still link to it.
    @discardableResult
    public func close() -> Bool {
        guard !closed else { return true }
        guard liveDomains == 0 else {
            coldWarn("exynos-iommu: \(liveDomains) domains still link to zero_lv2_table")
            return false
        }
        closed = true
        store.context.freeSmallTable(pointer: zeroTable, bytes: ExynosSysMMU.lv2Bytes)
        store.release()
        return true
    }

    /// A level-2 table from the "exynos-iommu-lv2table" kmem_cache (1 KiB objects, 1 KiB aligned) that the
    /// SysMMU can address: below 4 GiB before v5, below 64 GiB from v5.
    static func allocateLV2(_ context: TableContext, gfp: GFP, majorVersion: Int, site: AllocationSite)
        -> (UInt64, UnsafeMutableRawPointer)? {
        let anywhere = majorVersion >= 5
        guard let (pa, pointer) = context.allocateSmallTable(bytes: ExynosSysMMU.lv2Bytes, gfp: gfp, anywhere: anywhere,
                                                             site: site) else { return nil }
        // BUG_ON((uintptr_t)pent & (LV2TABLE_SIZE - 1)) and the entry's reach.
        guard pa & UInt64(ExynosSysMMU.lv2Bytes - 1) == 0,
              pa >> UInt64(ExynosSysMMU.physicalBits(majorVersion: majorVersion)) == 0 else {
            coldWarn("exynos-iommu: level-2 table at \(Kernel.hex(pa)) is misaligned or out of the SysMMU's reach")
            context.freeSmallTable(pointer: pointer, bytes: ExynosSysMMU.lv2Bytes)
            return nil
        }
        return (pa, pointer)
    }
}

/// One Exynos domain's tables: the 16 KiB LV1 table, its level-2 tables and the `lv2entcnt` free-slot
/// counters. Kernel: `struct exynos_iommu_domain`. Not thread-safe: callers hold the domain's `pgtablelock`.
public final class ExynosSysMMUTable {
    public let driver: ExynosSysMMUDriver
    /// The domain's own view of RAM and statistics (the zero table is counted in the driver's).
    let store: DriverTableMemory
    var context: TableContext { store.context }
    let shift: UInt64
    public let majorVersion: Int
    /// Physical address of the LV1 table (`virt_to_phys(domain->pgtable)`), 16 KiB aligned.
    public let pgtablePA: UInt64
    let pgtable: UnsafeMutablePointer<UInt32>
    let counterPage: UnsafeMutablePointer<PageFrame>
    /// Kernel: `domain->lv2entcnt` (8 KiB from iommu_alloc_pages_sz).
    let lv2entcnt: UnsafeMutablePointer<Int16>
    private var destroyed = false

    /// Called when a level-2 table replaces the zero link, for the IOMMU model to drop the FLPD cache entry of
    /// `iova` on every client SysMMU (v3.3 may have prefetched the zero link). Kernel:
    /// `sysmmu_tlb_invalidate_flpdcache` from `alloc_lv2entry`.
    public var flushFLPDCache: ((_ iova: UInt64) -> Void)?
    /// Called after every unmap that reports a size, for the IOMMU model's TLBs. Kernel:
    /// `exynos_iommu_tlb_invalidate_entry(domain, iova, size)`.
    public var invalidateEntry: ((_ iova: UInt64, _ size: UInt64) -> Void)?

    init(driver: ExynosSysMMUDriver) throws(DriverTableError) {
        self.driver = driver
        store = DriverTableMemory(memory: driver.store.memory, coherent: driver.store.context.coherent)
        shift = driver.shift
        majorVersion = driver.majorVersion
        // iommu_alloc_pages_sz(GFP_KERNEL, SZ_16K); the table must be reachable by the base register (and,
        // as dma_map_single must return the physical address, by the SysMMU's DMA mask).
        let gfp: GFP = majorVersion < 5 ? .dma32 : .kernel
        let context = store.context
        guard let (pa, pointer) = context.allocateTable(bytes: ExynosSysMMU.lv1Bytes, gfp: gfp,
                                                        site: DriverTableSite.exynosLV1) else {
            store.release()
            throw .noMemory
        }
        guard pa & UInt64(ExynosSysMMU.lv1Bytes - 1) == 0,
              pa >> UInt64(ExynosSysMMU.physicalBits(majorVersion: majorVersion)) == 0 else {
            context.freeTable(pa: pa, pointer: pointer, bytes: ExynosSysMMU.lv1Bytes)
            store.release()
            throw .noMemory
        }
        let memory = context.memory
        guard let page = memory.allocatePages(order: 1, gfp: GFP.kernel.union(.zero), site: DriverTableSite.exynosLV1) else {
            context.freeTable(pa: pa, pointer: pointer, bytes: ExynosSysMMU.lv1Bytes)
            store.release()
            throw .noMemory
        }
        counterPage = page
        lv2entcnt = memory.physical.virtualAddress(of: page)!.bindMemory(to: Int16.self, capacity: ExynosSysMMU.lv1Entries)
        pgtablePA = pa
        pgtable = pointer.bindMemory(to: UInt32.self, capacity: ExynosSysMMU.lv1Entries)
        // Workaround for System MMU v3.3 to prevent caching 1MiB mapping: every entry links the zero table.
        let zero = driver.zeroLink
        for i in 0..<ExynosSysMMU.lv1Entries { pgtable[i] = zero }
        // dma_map_single(dma_dev, domain->pgtable, LV1TABLE_SIZE, DMA_TO_DEVICE).
        if !context.coherent { context.clean(pa, bytes: ExynosSysMMU.lv1Bytes) }
    }

    /// The value `__sysmmu_set_ptbase` programs for this domain.
    public var ptBaseRegister: UInt32 { ExynosSysMMU.ptBaseRegister(pgtablePA, majorVersion: majorVersion) }

    /// The LV1 entry covering `iova`, as the CPU sees it.
    public func lv1Entry(_ iova: UInt64) -> UInt32 { pgtable[Int((iova >> 20) & 0xfff)] }

    /// Free level-2 slots of the section covering `iova`. Kernel: `domain->lv2entcnt[lv1ent_offset(iova)]`.
    public func lv2EntryCount(_ iova: UInt64) -> Int { Int(lv2entcnt[Int((iova >> 20) & 0xfff)]) }

    /// Table statistics: bytes and tables allocated, cache cleans.
    public var tableBytes: UInt64 { context.stats.pointee.tableBytes }
    public var tableCount: UInt64 { context.stats.pointee.tables }
    public var syncs: UInt64 { context.stats.pointee.syncs }

    // Kernel: lv1ent_fault / lv1ent_page, which compare with ZERO_LV2LINK.
    @inline(__always) func lv1IsFault(_ ent: UInt32) -> Bool { ent == driver.zeroLink || ent & 3 == 0 || ent & 3 == 3 }
    @inline(__always) func lv1IsPage(_ ent: UInt32) -> Bool { ent != driver.zeroLink && ent & 3 == 1 }

    /// Kernel: `exynos_iommu_set_pte`: write, then dma_sync_single_for_device.
    @inline(__always)
    private func setPTE(_ ent: UnsafeMutablePointer<UInt32>, _ value: UInt32) {
        ent.pointee = value
        sync(ent, count: 1)
    }

    @inline(__always)
    private func sync(_ ent: UnsafeMutablePointer<UInt32>, count: Int) {
        guard !context.coherent else { return }
        let pa = context.memory.physical.physicalAddress(ofVirtual: UnsafeRawPointer(ent))!.rawValue
        context.clean(pa, bytes: count * 4)
    }

    private func lv2Pointer(_ ent: UInt32) -> UnsafeMutablePointer<UInt32>? {
        context.pointer(ExynosSysMMU.lv2Base(ent, shift))?.assumingMemoryBound(to: UInt32.self)
    }

    // MARK: map. Kernel: exynos_iommu_map, lv1set_section, alloc_lv2entry, lv2set_page.

    /// Map one page of `size` (1M, 64K or 4K). `prot` keeps only IOMMU_READ and IOMMU_WRITE. Throws
    /// EADDRINUSE for an occupied slot (with the driver's WARN), ENOMEM, and, from swiommu's checks (Linux's
    /// core or nothing checks them; the driver would truncate), EINVAL for a size not in the bitmap or an
    /// unaligned address and ERANGE for an IOVA past 32 bits or a PA past what an entry holds.
    public func map(iova: UInt64, paddr: UInt64, size: UInt64, prot: Int32) throws(DriverTableError) {
        guard size == ExynosSysMMU.sectionSize || size == ExynosSysMMU.largePageSize || size == ExynosSysMMU.smallPageSize else {
            coldWarn("exynos_iommu_map: size \(Kernel.hex(size)) is not one of \(Kernel.hex(ExynosSysMMU.pageSizes))")
            throw .invalid
        }
        guard (iova | paddr) & (size - 1) == 0 else {
            coldWarn("exynos_iommu_map: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) not aligned to \(Kernel.hex(size))")
            throw .invalid
        }
        guard iova >> 32 == 0, paddr >> UInt64(ExynosSysMMU.physicalBits(majorVersion: majorVersion)) == 0 else {
            coldWarn("exynos_iommu_map: iova \(Kernel.hex(iova)) or paddr \(Kernel.hex(paddr)) out of the SysMMU's reach")
            throw .range
        }
        let prot = prot & (IOMMUProt.read.rawValue | IOMMUProt.write.rawValue)
        let index = Int(iova >> 20)
        let entry = pgtable + index
        do {
            if size == ExynosSysMMU.sectionSize {
                try setSection(entry, iova: iova, paddr: paddr, prot: prot, count: lv2entcnt + index)
            } else {
                let pent = try allocateLV2Entry(entry, iova: iova, count: lv2entcnt + index)
                try setPage(pent, paddr: paddr, size: size, prot: prot, count: lv2entcnt + index)
            }
        } catch {
            Kernel.log(.error, "exynos_iommu_map: Failed(\(error.negated)) to map \(Kernel.hex(size)) bytes @ \(Kernel.hex(iova))")
            throw error
        }
    }

    private func setSection(_ sent: UnsafeMutablePointer<UInt32>, iova: UInt64, paddr: UInt64, prot: Int32,
                            count: UnsafeMutablePointer<Int16>) throws(DriverTableError) {
        if ExynosSysMMU.isSection(sent.pointee) {
            coldWarn("Trying mapping on 1MiB@\(Kernel.hex(iova)) that is mapped")
            throw .addressInUse
        }
        if lv1IsPage(sent.pointee) {
            guard count.pointee == Int16(ExynosSysMMU.lv2Entries) else {
                coldWarn("Trying mapping on 1MiB@\(Kernel.hex(iova)) that is mapped")
                throw .addressInUse
            }
            // kmem_cache_free of the empty level-2 table (the driver skips its dma_unmap_single).
            if let lv2 = lv2Pointer(sent.pointee) { context.freeSmallTable(pointer: UnsafeMutableRawPointer(lv2), bytes: ExynosSysMMU.lv2Bytes) }
            count.pointee = 0
        }
        setPTE(sent, ExynosSysMMU.makeSection(paddr, prot: prot, majorVersion: majorVersion))
    }

    private func allocateLV2Entry(_ sent: UnsafeMutablePointer<UInt32>, iova: UInt64,
                                  count: UnsafeMutablePointer<Int16>) throws(DriverTableError) -> UnsafeMutablePointer<UInt32> {
        if ExynosSysMMU.isSection(sent.pointee) {
            coldWarn("Trying mapping on \(Kernel.hex(iova)) mapped with 1MiB page")
            throw .addressInUse
        }
        if lv1IsFault(sent.pointee) {
            let needFlushFLPDCache = sent.pointee == driver.zeroLink
            // kmem_cache_zalloc(GFP_ATOMIC); dma_map_single cleans it (allocateSmallTable does).
            guard let (pa, _) = ExynosSysMMUDriver.allocateLV2(context, gfp: .atomic, majorVersion: majorVersion,
                                                                site: DriverTableSite.exynosLV2) else { throw .noMemory }
            setPTE(sent, ExynosSysMMU.makeTableLink(pa, majorVersion: majorVersion))
            count.pointee = Int16(ExynosSysMMU.lv2Entries)
            // The SysMMU may still cache the zero link for this section.
            if needFlushFLPDCache { flushFLPDCache?(iova) }
        }
        guard let lv2 = lv2Pointer(sent.pointee) else {
            coldWarn("exynos_iommu_map: LV1 entry \(Kernel.hex(sent.pointee)) links outside RAM (corrupted table)")
            throw .invalid
        }
        return lv2 + Int((iova >> 12) & 0xff)
    }

    private func setPage(_ pent: UnsafeMutablePointer<UInt32>, paddr: UInt64, size: UInt64, prot: Int32,
                         count: UnsafeMutablePointer<Int16>) throws(DriverTableError) {
        if size == ExynosSysMMU.smallPageSize {
            guard ExynosSysMMU.lv2IsFault(pent.pointee) else {
                coldWarn("lv2set_page: WARN_ON(!lv2ent_fault(pent))")
                throw .addressInUse
            }
            setPTE(pent, ExynosSysMMU.makeSmallPage(paddr, prot: prot, majorVersion: majorVersion))
            count.pointee -= 1
            return
        }
        let value = ExynosSysMMU.makeLargePage(paddr, prot: prot, majorVersion: majorVersion)
        for i in 0..<ExynosSysMMU.smallPagesPerLargePage {
            guard ExynosSysMMU.lv2IsFault(pent[i]) else {
                coldWarn("lv2set_page: WARN_ON(!lv2ent_fault(pent))")
                // The driver clears what it wrote, without a sync (nothing it wrote was synced yet).
                for j in 0..<i { pent[j] = 0 }
                throw .addressInUse
            }
            pent[i] = value
        }
        sync(pent, count: ExynosSysMMU.smallPagesPerLargePage)
        count.pointee -= Int16(ExynosSysMMU.smallPagesPerLargePage)
    }

    // MARK: unmap. Kernel: exynos_iommu_unmap.

    /// Unmap at `iova`, returning the size the driver reports: a whole section when `iova` is in one (0 with a
    /// WARN if `size` is smaller), the large or small page there (0 with a WARN for a large page and a smaller
    /// `size`); and, as upstream, also when nothing is mapped: min(`size`, 1M) for an empty LV1 entry and 4K
    /// for an empty LV2 entry. swiommu returns 0 (with a WARN) for a size not in the bitmap, an unaligned
    /// iova, or one past 32 bits.
    public func unmap(iova: UInt64, size: UInt64) -> UInt64 {
        let removed = unmapEntry(iova: iova, size: size)
        if removed != 0 { invalidateEntry?(iova, removed) }
        return removed
    }

    private func unmapEntry(iova: UInt64, size: UInt64) -> UInt64 {
        guard size == ExynosSysMMU.sectionSize || size == ExynosSysMMU.largePageSize || size == ExynosSysMMU.smallPageSize,
              iova & (size - 1) == 0, iova >> 32 == 0 else {
            coldWarn("exynos_iommu_unmap: iova \(Kernel.hex(iova)) and size \(Kernel.hex(size)) are not a page of the table")
            return 0
        }
        let index = Int(iova >> 20)
        let sent = pgtable + index
        if ExynosSysMMU.isSection(sent.pointee) {
            guard size >= ExynosSysMMU.sectionSize else {
                coldWarn("exynos_iommu_unmap: WARN_ON(size < SECT_SIZE)")
                Kernel.log(.error, "exynos_iommu_unmap: Failed: size(\(Kernel.hex(size))) @ \(Kernel.hex(iova)) is smaller than page size 0x100000")
                return 0
            }
            // Workaround for h/w bug in System MMU v3.3: back to the zero link, not to a fault entry.
            setPTE(sent, driver.zeroLink)
            return ExynosSysMMU.sectionSize
        }
        if lv1IsFault(sent.pointee) { return min(size, ExynosSysMMU.sectionSize) }
        guard let lv2 = lv2Pointer(sent.pointee) else { return 0 }
        let ent = lv2 + Int((iova >> 12) & 0xff)
        if ExynosSysMMU.lv2IsFault(ent.pointee) { return ExynosSysMMU.smallPageSize }
        if ExynosSysMMU.lv2IsSmall(ent.pointee) {
            setPTE(ent, 0)
            lv2entcnt[index] += 1
            return ExynosSysMMU.smallPageSize
        }
        guard size >= ExynosSysMMU.largePageSize else {
            coldWarn("exynos_iommu_unmap: WARN_ON(size < LPAGE_SIZE)")
            Kernel.log(.error, "exynos_iommu_unmap: Failed: size(\(Kernel.hex(size))) @ \(Kernel.hex(iova)) is smaller than page size 0x10000")
            return 0
        }
        for i in 0..<ExynosSysMMU.smallPagesPerLargePage { ent[i] = 0 }
        sync(ent, count: ExynosSysMMU.smallPagesPerLargePage)
        lv2entcnt[index] += Int16(ExynosSysMMU.smallPagesPerLargePage)
        return ExynosSysMMU.largePageSize
    }

    // MARK: iova_to_phys. Kernel: exynos_iommu_iova_to_phys.

    /// 0 when unmapped (and for an IOVA past 32 bits, which the driver would truncate).
    public func iovaToPhys(_ iova: UInt64) -> UInt64 {
        guard iova >> 32 == 0 else { return 0 }
        let sent = pgtable[Int(iova >> 20)]
        if ExynosSysMMU.isSection(sent) {
            return (ExynosSysMMU.toPhys(sent, shift) & ~(ExynosSysMMU.sectionSize - 1)) + (iova & (ExynosSysMMU.sectionSize - 1))
        }
        guard lv1IsPage(sent), let lv2 = lv2Pointer(sent) else { return 0 }
        let ent = lv2[Int((iova >> 12) & 0xff)]
        if ExynosSysMMU.lv2IsLarge(ent) {
            return (ExynosSysMMU.toPhys(ent, shift) & ~(ExynosSysMMU.largePageSize - 1)) + (iova & (ExynosSysMMU.largePageSize - 1))
        }
        if ExynosSysMMU.lv2IsSmall(ent) {
            return (ExynosSysMMU.toPhys(ent, shift) & ~(ExynosSysMMU.smallPageSize - 1)) + (iova & (ExynosSysMMU.smallPageSize - 1))
        }
        return 0
    }

    // MARK: free. Kernel: exynos_iommu_domain_free.

    /// Free every level-2 table, the LV1 table and the counters. Idempotent.
    public func destroy() {
        guard !destroyed else { return }
        destroyed = true
        for i in 0..<ExynosSysMMU.lv1Entries where lv1IsPage(pgtable[i]) {
            if let lv2 = lv2Pointer(pgtable[i]) {
                context.freeSmallTable(pointer: UnsafeMutableRawPointer(lv2), bytes: ExynosSysMMU.lv2Bytes)
            }
        }
        context.freeTable(pa: pgtablePA, pointer: UnsafeMutableRawPointer(pgtable), bytes: ExynosSysMMU.lv1Bytes)
        context.memory.freePages(counterPage, order: 1)
        store.release()
        driver.domainDestroyed()
    }

    // MARK: Dump

    /// One line per LV1 entry that is not the zero link, and per valid LV2 entry.
    public func dump(into out: inout String) {
        let walk = context.coherent ? "coherent walk" : "non-coherent walk"
        out += "EXYNOS_SYSMMU v\(majorVersion): lv1 \(Kernel.hex(pgtablePA)), zero lv2 \(Kernel.hex(driver.zeroTablePA)), \(walk)\n"
        for i in 0..<ExynosSysMMU.lv1Entries where pgtable[i] != driver.zeroLink {
            let ent = pgtable[i]
            let start = UInt64(i) << 20
            let line = "L1[\(i)] \(DumpFormat.hex64(start))-\(DumpFormat.hex64(start + ExynosSysMMU.sectionSize - 1)) \(DumpFormat.hex32(ent))"
            if ExynosSysMMU.isSection(ent) {
                out += line + " section -> \(Kernel.hex(ExynosSysMMU.toPhys(ent, shift) & ~(ExynosSysMMU.sectionSize - 1)))\n"
            } else if lv1IsPage(ent), let lv2 = lv2Pointer(ent) {
                out += line + " table -> \(Kernel.hex(ExynosSysMMU.lv2Base(ent, shift))) (\(lv2entcnt[i]) free)\n"
                for j in 0..<ExynosSysMMU.lv2Entries where !ExynosSysMMU.lv2IsFault(lv2[j]) {
                    let at = start + (UInt64(j) << 12)
                    let kind = ExynosSysMMU.lv2IsLarge(lv2[j]) ? "large page" : "small page"
                    out += "  L2[\(DumpFormat.index(j))] \(DumpFormat.hex64(at)) \(DumpFormat.hex32(lv2[j])) \(kind) -> "
                        + "\(Kernel.hex(ExynosSysMMU.toPhys(lv2[j], shift) & ~(ExynosSysMMU.smallPageSize - 1)))\n"
                }
            } else {
                out += line + " fault\n"
            }
        }
    }
}
