// The page-table layer: io-pgtable formats behind one protocol, their tables in simulated RAM at physical
// addresses, written as Linux 6.17 writes them. Kernel: drivers/iommu/io-pgtable.c.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// Mapping protection flags. Kernel: `IOMMU_READ` ... `IOMMU_PRIV` (linux/iommu.h).
public struct IOMMUProt: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let read = IOMMUProt(rawValue: 1 << 0)     // IOMMU_READ
    public static let write = IOMMUProt(rawValue: 1 << 1)    // IOMMU_WRITE
    public static let cache = IOMMUProt(rawValue: 1 << 2)    // IOMMU_CACHE
    public static let noExec = IOMMUProt(rawValue: 1 << 3)   // IOMMU_NOEXEC
    public static let mmio = IOMMUProt(rawValue: 1 << 4)     // IOMMU_MMIO
    public static let priv = IOMMUProt(rawValue: 1 << 5)     // IOMMU_PRIV
}

/// Quirk bits of `io_pgtable_cfg.quirks`. Kernel: `IO_PGTABLE_QUIRK_*` (BIT() does not reach Swift).
public enum PageTableQuirk {
    public static let armNS: UInt = 1 << 0          // IO_PGTABLE_QUIRK_ARM_NS
    public static let noPerms: UInt = 1 << 1        // IO_PGTABLE_QUIRK_NO_PERMS
    public static let armMTKExt: UInt = 1 << 3      // IO_PGTABLE_QUIRK_ARM_MTK_EXT
    public static let armMTKTTBRExt: UInt = 1 << 4  // IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT
    public static let armTTBR1: UInt = 1 << 5       // IO_PGTABLE_QUIRK_ARM_TTBR1
    public static let armOuterWBWA: UInt = 1 << 6   // IO_PGTABLE_QUIRK_ARM_OUTER_WBWA
    public static let armHD: UInt = 1 << 7          // IO_PGTABLE_QUIRK_ARM_HD
    public static let armS2FWB: UInt = 1 << 8       // IO_PGTABLE_QUIRK_ARM_S2FWB
    public static let noWarn: UInt = 1 << 9         // IO_PGTABLE_QUIRK_NO_WARN
}

/// Sizes the formats use. Kernel: linux/sizes.h.
enum Size {
    static let k4: UInt64 = 0x1000, k16: UInt64 = 0x4000, k64: UInt64 = 0x10000
    static let m1: UInt64 = 0x10_0000, m2: UInt64 = 0x20_0000, m16: UInt64 = 0x100_0000, m32: UInt64 = 0x200_0000
    static let m512: UInt64 = 0x2000_0000, g1: UInt64 = 0x4000_0000, t4: UInt64 = 1 << 42
}

/// The formats swiommu models, grouped by the code that implements them.
public enum FormatFamily: UInt8, Sendable {
    /// ARM_32_LPAE_S1/S2, ARM_64_LPAE_S1/S2, ARM_MALI_LPAE. Kernel: io-pgtable-arm.c.
    case armLPAE
    /// ARM_V7S. Kernel: io-pgtable-arm-v7s.c.
    case armV7S
    /// APPLE_DART, APPLE_DART2. Kernel: io-pgtable-dart.c.
    case appleDART

    /// The family of a format, or nil for one that is not modelled (AMD) or unknown.
    public init?(_ fmt: io_pgtable_fmt) {
        switch fmt {
        case ARM_32_LPAE_S1, ARM_32_LPAE_S2, ARM_64_LPAE_S1, ARM_64_LPAE_S2, ARM_MALI_LPAE: self = .armLPAE
        case ARM_V7S: self = .armV7S
        case APPLE_DART, APPLE_DART2: self = .appleDART
        default: return nil
        }
    }
}

/// The kernel's name of a format, for messages and dumps.
public func formatName(_ fmt: io_pgtable_fmt) -> String {
    switch fmt {
    case ARM_32_LPAE_S1: "ARM_32_LPAE_S1"
    case ARM_32_LPAE_S2: "ARM_32_LPAE_S2"
    case ARM_64_LPAE_S1: "ARM_64_LPAE_S1"
    case ARM_64_LPAE_S2: "ARM_64_LPAE_S2"
    case ARM_V7S: "ARM_V7S"
    case ARM_MALI_LPAE: "ARM_MALI_LPAE"
    case AMD_IOMMU_V1: "AMD_IOMMU_V1"
    case AMD_IOMMU_V2: "AMD_IOMMU_V2"
    case APPLE_DART: "APPLE_DART"
    case APPLE_DART2: "APPLE_DART2"
    default: "format \(fmt.rawValue)"
    }
}

// MARK: The format contract

/// What every io-pgtable format implements: the kernel's `struct io_pgtable_init_fns` plus the
/// `struct io_pgtable_ops` it fills in. One instance per table (the kernel's `struct arm_lpae_io_pgtable` and
/// friends), held unretained-at-use by the table's kmalloc'd state next to the C `struct io_pgtable` and
/// reached from the ops pointer by arithmetic; its fields are immutable, so calls borrow it without copies.
protocol PageTableFormat: AnyObject {
    /// Narrow `config`, reject quirks the format does not know before any work, allocate the top level and
    /// fill in the registers. Kernel: `io_pgtable_init_fns->alloc`.
    init(format: io_pgtable_fmt, config: inout io_pgtable_cfg, context: TableContext) throws(Errno)

    /// Kernel: `io_pgtable_ops->map_pages`. Adds what it mapped to `mapped`, also when it fails part-way.
    func map(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, paddr: UInt64, pageSize: UInt64,
                      count: Int, prot: Int32, gfp: GFP, mapped: inout Int) throws(Errno)

    /// Kernel: `io_pgtable_ops->unmap_pages`. Returns the bytes unmapped.
    func unmap(_ iop: UnsafeMutablePointer<io_pgtable>, iova: UInt64, pageSize: UInt64, count: Int,
                        gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> UInt64

    /// Kernel: `io_pgtable_ops->iova_to_phys`. 0 when unmapped.
    func iovaToPhys(_ iova: UInt64) -> UInt64

    /// Free every table. Kernel: `io_pgtable_init_fns->free`.
    func destroy()

    /// One line per valid descriptor, after a header line.
    func dump(into out: inout String)

    /// How the format reaches simulated RAM, and its statistics.
    var context: TableContext { get }
}

// MARK: Simulated RAM as the tables see it

/// Counters of one table, bumped atomically (several CPUs may map at once).
struct TableStatistics {
    var tableBytes: UInt64 = 0
    var tables: UInt64 = 0
    var syncs: UInt64 = 0
}

/// A table's access to simulated RAM: physical-to-virtual conversion without locks or lookups, table
/// allocation, and the cache model for a non-coherent walker. Holds the memory retained, so the table
/// stays valid until it is freed even if the machine goes down first.
struct TableContext {
    let owner: Unmanaged<SimulatedMemory>
    let banks: UnsafeMutablePointer<RAMBank>
    let bankCount: Int
    let pageShift: Int
    /// Kernel: `cfg->coherent_walk`.
    let coherent: Bool
    /// Kernel: `cfg->alloc`, `cfg->free` and the cookie passed to them.
    let customAlloc: (@convention(c) (UnsafeMutableRawPointer?, Int, gfp_t) -> UnsafeMutableRawPointer?)?
    let customFree: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Void)?
    let cookie: UnsafeMutableRawPointer?
    /// swiommu's bookkeeping in the table's state: statistics, the walk cache words, the split option.
    let common: UnsafeMutablePointer<PageTableCommon>

    var stats: UnsafeMutablePointer<TableStatistics> {
        (UnsafeMutableRawPointer(common) + MemoryLayout<PageTableCommon>.offset(of: \PageTableCommon.stats)!)
            .assumingMemoryBound(to: TableStatistics.self)
    }

    /// Two words shared by every CPU using the table, for the format's walk cache.
    var walkCache: UnsafeMutablePointer<UInt64> {
        (UnsafeMutableRawPointer(common) + MemoryLayout<PageTableCommon>.offset(of: \PageTableCommon.walkCache)!)
            .assumingMemoryBound(to: UInt64.self)
    }

    /// Split blocks on a partial unmap (Linux 6.6-6.12) instead of refusing (6.17).
    var splitBlocks: Bool { common.pointee.splitBlocks }

    /// The bank the tables come from, checked first without a pointer chase (tables of one format come from
    /// one zone: above 4 GiB for GFP_KERNEL, below for GFP_DMA32).
    var primaryStart: UInt64 = 0
    var primarySize: UInt64 = 0
    var primaryBase: UnsafeMutableRawPointer? = nil

    var memory: SimulatedMemory { owner.takeUnretainedValue() }

    init(owner: Unmanaged<SimulatedMemory>, banks: UnsafeMutablePointer<RAMBank>, bankCount: Int, pageShift: Int,
         coherent: Bool,
         customAlloc: (@convention(c) (UnsafeMutableRawPointer?, Int, gfp_t) -> UnsafeMutableRawPointer?)?,
         customFree: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, Int) -> Void)?,
         cookie: UnsafeMutableRawPointer?, common: UnsafeMutablePointer<PageTableCommon>) {
        self.owner = owner
        self.banks = banks
        self.bankCount = bankCount
        self.pageShift = pageShift
        self.coherent = coherent
        self.customAlloc = customAlloc
        self.customFree = customFree
        self.cookie = cookie
        self.common = common
        // Until the top level is allocated: the highest bank, where GFP_KERNEL allocations go first.
        if bankCount > 0 { preferBank(of: banks[bankCount - 1].start.rawValue) }
    }

    /// Check the bank holding `pa` first from now on.
    mutating func preferBank(of pa: UInt64) {
        for i in 0..<bankCount where pa &- banks[i].start.rawValue < banks[i].size {
            primaryStart = banks[i].start.rawValue
            primarySize = banks[i].size
            primaryBase = banks[i].base
        }
    }

    /// Kernel: `phys_to_virt` (`__va`). Nil for an address outside simulated RAM.
    @inline(__always)
    func pointer(_ pa: UInt64) -> UnsafeMutableRawPointer? {
        let offset = pa &- primaryStart
        if offset < primarySize { return primaryBase.unsafelyUnwrapped + Int(truncatingIfNeeded: offset) }
        return slowPointer(pa)
    }

    @inline(never)
    func slowPointer(_ pa: UInt64) -> UnsafeMutableRawPointer? {
        var b = banks
        let end = banks + bankCount
        while b != end {
            let offset = pa &- b.pointee.start.rawValue
            if offset < b.pointee.size { return b.pointee.base + Int(truncatingIfNeeded: offset) }
            b += 1
        }
        return nil
    }

    /// Kernel: `dma_sync_single_for_device(..., DMA_TO_DEVICE)` on table memory: arm64 cleans the lines so
    /// a non-coherent walker sees them. Only called when the walk is not coherent.
    @inline(never)
    func clean(_ pa: UInt64, bytes: Int) {
        owner._withUnsafeGuaranteedRef { _ = $0.maintainCache(.clean, PhysicalAddress(pa), size: bytes) }
        count(\.syncs, 1)
    }

    @inline(__always)
    func count(_ field: KeyPath<TableStatistics, UInt64>, _ delta: Int64) {
        let offset = MemoryLayout<TableStatistics>.offset(of: field)!
        swiommu_pgt_count((UnsafeMutableRawPointer(stats) + offset).assumingMemoryBound(to: UInt64.self), delta)
    }

    /// Allocate a zeroed table of `bytes` (rounded up to whole CPU pages, at least 64 bytes, as
    /// `iommu_alloc_pages_node_sz` does) and map it for the walker. Kernel: `__arm_lpae_alloc_pages`,
    /// `__arm_v7s_alloc_table` (level 1), `iommu_alloc_pages_sz`.
    func allocateTable(bytes: Int, gfp: GFP, site: AllocationSite?) -> (pa: UInt64, pointer: UnsafeMutableRawPointer)? {
        let size = max(bytes, 64)
        var pointer: UnsafeMutableRawPointer
        var pa: UInt64
        var held: Int
        if let customAlloc {
            guard let p = customAlloc(cookie, size, gfp.rawValue) else { return nil }
            guard let phys = owner._withUnsafeGuaranteedRef({ $0.physical.physicalAddress(ofVirtual: p) }) else {
                Kernel.warn("io-pgtable: the custom allocator returned \(Kernel.hex(UInt(bitPattern: p))), "
                            + "which is not in the linear map of simulated RAM")
                customFree?(cookie, p, bytes)
                return nil
            }
            pointer = p
            pa = phys.rawValue
            held = size
        } else {
            // The kernel WARNs on __GFP_HIGHMEM: table pages are used through page_address().
            if gfp.contains(.highmem) {
                Kernel.warn("io-pgtable: table allocation with __GFP_HIGHMEM")
                return nil
            }
            let order = Self.order(bytes: size, pageShift: pageShift)
            guard let page = owner._withUnsafeGuaranteedRef({
                $0.allocatePages(order: order, gfp: gfp.union(.zero), site: site)
            }) else { return nil }
            let memory = owner.takeUnretainedValue()
            pointer = memory.physical.virtualAddress(of: page)!
            pa = memory.physical.physicalAddress(of: page)!.rawValue
            held = 1 << (order + pageShift)
        }
        // Kernel: dma_map_single(iommu_dev, table, size, DMA_TO_DEVICE), which cleans the (zeroed) table.
        if !coherent { clean(pa, bytes: bytes) }
        count(\.tableBytes, Int64(held))
        count(\.tables, 1)
        return (pa, pointer)
    }

    /// Free a table from `allocateTable`. Kernel: `__arm_lpae_free_pages`, `iommu_free_pages`.
    func freeTable(pa: UInt64, pointer: UnsafeMutableRawPointer, bytes: Int) {
        let size = max(bytes, 64)
        // dma_unmap_single(DMA_TO_DEVICE) does no CPU cache maintenance on arm64.
        if let customFree {
            customFree(cookie, pointer, bytes)
            count(\.tableBytes, -Int64(size))
        } else {
            let order = Self.order(bytes: size, pageShift: pageShift)
            owner._withUnsafeGuaranteedRef { m in
                if let page = m.physical.page(containing: PhysicalAddress(pa)) { m.freePages(page, order: order) }
            }
            count(\.tableBytes, -Int64(1 << (order + pageShift)))
        }
        count(\.tables, -1)
    }

    /// A 1 KiB ARMv7 level-2 table from kmalloc (the kernel's "io-pgtable_armv7s_l2" kmem_cache, 1 KiB
    /// aligned), below 4 GiB unless `anywhere`. Kernel: `kmem_cache_zalloc(data->l2_tables, gfp)`.
    func allocateSmallTable(bytes: Int, gfp: GFP, anywhere: Bool, site: AllocationSite?)
        -> (pa: UInt64, pointer: UnsafeMutableRawPointer)? {
        var flags = gfp.subtracting([.dma32, .highmem]).union(.zero)
        if !anywhere { flags.insert(.dma) }
        let memory = owner.takeUnretainedValue()
        guard let p = memory.kmalloc(size: bytes, gfp: flags, site: site) else { return nil }
        let pa = memory.physical.physicalAddress(ofVirtual: p)!.rawValue
        if !coherent { clean(pa, bytes: bytes) }
        count(\.tableBytes, Int64(bytes))
        count(\.tables, 1)
        return (pa, p)
    }

    func freeSmallTable(pointer: UnsafeMutableRawPointer, bytes: Int) {
        owner.takeUnretainedValue().kfree(pointer)
        count(\.tableBytes, -Int64(bytes))
        count(\.tables, -1)
    }

    /// Kernel: `get_order()` in pages of the CPU.
    static func order(bytes: Int, pageShift: Int) -> Int {
        let pages = (bytes + (1 << pageShift) - 1) >> pageShift
        return pages <= 1 ? 0 : Int.bitWidth - (pages - 1).leadingZeroBitCount
    }
}

// MARK: Where a table lives

/// The kmalloc'd object behind one `io_pgtable_ops`: the kernel's `struct io_pgtable` (which C code reaches
/// through `io_pgtable_ops_to_pgtable`), swiommu's bookkeeping, then the format's private data (the
/// kernel's `struct arm_lpae_io_pgtable` and friends, which also embed `struct io_pgtable`).
struct PageTableBox<Format: PageTableFormat> {
    var iop: io_pgtable
    var common: PageTableCommon
    var format: Unmanaged<Format>

    @inline(__always)
    static func from(ops: UnsafeMutablePointer<io_pgtable_ops>) -> UnsafeMutablePointer<Self> {
        let opsOffset = MemoryLayout<Self>.offset(of: \Self.iop)! + MemoryLayout<io_pgtable>.offset(of: \io_pgtable.ops)!
        return (UnsafeMutableRawPointer(ops) - opsOffset).assumingMemoryBound(to: Self.self)
    }

    @inline(__always)
    static func iop(_ box: UnsafeMutablePointer<Self>) -> UnsafeMutablePointer<io_pgtable> {
        (UnsafeMutableRawPointer(box) + MemoryLayout<Self>.offset(of: \Self.iop)!).assumingMemoryBound(to: io_pgtable.self)
    }

    /// The format's instance, for calls that borrow it: `format(ops) { $0.map(...) }`.
    @inline(__always)
    static func with<R>(_ ops: UnsafeMutablePointer<io_pgtable_ops>, _ body: (Format) -> R) -> R {
        from(ops: ops).pointee.format._withUnsafeGuaranteedRef(body)
    }

    static func common(_ box: UnsafeMutableRawPointer) -> UnsafeMutablePointer<PageTableCommon> {
        (box + MemoryLayout<Self>.offset(of: \Self.common)!).assumingMemoryBound(to: PageTableCommon.self)
    }
}

/// What swiommu keeps about every table, whatever its format.
struct PageTableCommon {
    var family: FormatFamily
    var splitBlocks: Bool
    var stats: TableStatistics
    /// Two words for the format's walk cache (see `ARMLPAETable.walkCache`).
    var walkCache: (UInt64, UInt64) = (0, 0)
}

/// The live tables, so that freeing twice or freeing a stray pointer is refused instead of corrupting
/// memory. Consulted on alloc and free only, never on the map/unmap paths.
final class PageTableRegistry: @unchecked Sendable {
    static let shared = PageTableRegistry()
    private let lock = Lock()
    private var live: Set<UInt> = []
    /// The default of `splitBlocks` for new tables.
    private var splitDefault = false

    func insert(_ ops: UnsafeMutablePointer<io_pgtable_ops>) { lock.withLock { _ = live.insert(UInt(bitPattern: ops)) } }
    func remove(_ ops: UnsafeMutablePointer<io_pgtable_ops>) -> Bool {
        lock.withLock { live.remove(UInt(bitPattern: ops)) != nil }
    }
    func contains(_ ops: UnsafeMutablePointer<io_pgtable_ops>) -> Bool {
        lock.withLock { live.contains(UInt(bitPattern: ops)) }
    }
    var defaultSplitBlocks: Bool {
        get { lock.withLock { splitDefault } }
        set { lock.withLock { splitDefault = newValue } }
    }
}

// MARK: Allocation sites for the leak report

/// Sites named after the kernel function that allocates, with swiommu's source line that does it.
enum PageTableSite {
    nonisolated(unsafe) static let state = make("alloc_io_pgtable_ops")
    nonisolated(unsafe) static let lpaeTable = make("__arm_lpae_alloc_pages")
    nonisolated(unsafe) static let v7sTable = make("__arm_v7s_alloc_table")
    nonisolated(unsafe) static let dartTable = make("iommu_alloc_pages_sz")

    private static func make(_ function: String, file: StaticString = #fileID, line: Int = #line) -> AllocationSite {
        let site = UnsafeMutablePointer<swiommu_alloc_site>.allocate(capacity: 1)
        let fileName = file.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        site.initialize(to: swiommu_alloc_site(file: strdup(fileName), func: strdup(function), line: Int32(line)))
        return UnsafeRawPointer(site)
    }
}

// MARK: Warnings

/// WARN_ONCE: once per boot, as `WARN_ON_ONCE` in C is.
struct WarnOnce {
    private var generation: UInt = UInt.max

    mutating func warn(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: Int = #line,
                       function: StaticString = #function) {
        let now = swiommu_pgt_boot_generation()
        guard generation != now else { return }
        generation = now
        Kernel.warn(message(), file: file, line: line, function: function)
    }
}

/// The "Unmap of a partial large IOPTE is not allowed" WARN_ONCE sites (one per format file, as in Linux).
nonisolated(unsafe) var partialUnmapWarnLPAE = WarnOnce()
nonisolated(unsafe) var partialUnmapWarnV7S = WarnOnce()

// MARK: Bits

extension UInt64 {
    /// Kernel: `__ffs()`: index of the lowest set bit (undefined for 0).
    @inline(__always) var lowestBit: Int { trailingZeroBitCount }
    /// Kernel: `__fls()`: index of the highest set bit (undefined for 0).
    @inline(__always) var highestBit: Int { 63 &- leadingZeroBitCount }
}

/// Kernel: `GENMASK_ULL(h, l)`, for 0 <= l <= h <= 63 (as in the kernel, other values give garbage).
@inline(__always)
func genmask(_ h: Int, _ l: Int) -> UInt64 {
    (UInt64.max &<< UInt64(truncatingIfNeeded: l)) & (UInt64.max &>> UInt64(truncatingIfNeeded: 63 &- h))
}

extension GFP {
    /// Kernel: `GFP_ATOMIC` (__GFP_HIGH | __GFP_KSWAPD_RECLAIM), what a split allocates with.
    static let atomic = GFP(rawValue: 0x20 | 0x800)
}

/// A WARN from a hot path: the message is built out of line, only when it fires.
@inline(never)
func coldWarn(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: Int = #line,
              function: StaticString = #function) {
    Kernel.warn(message(), file: file, line: line, function: function)
}
