// Allocating, using and freeing a table: the io-pgtable front door (format table, custom-allocator check,
// registry) and the entry points the C ops call. Kernel: drivers/iommu/io-pgtable.c.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory

/// One live io-pgtable, named by its `io_pgtable_ops`. A pointer-sized handle with no reference counting; like
/// the kernel's ops, it must not be used after `free()` (`init?(ops:)` checks liveness, the operations do not).
public struct IOPageTable {
    public let ops: UnsafeMutablePointer<io_pgtable_ops>
    public let family: FormatFamily

    /// The kernel's `struct io_pgtable` around the ops. Kernel: `io_pgtable_ops_to_pgtable`.
    @inline(__always)
    public var iop: UnsafeMutablePointer<io_pgtable> {
        (UnsafeMutableRawPointer(ops) - MemoryLayout<io_pgtable>.offset(of: \io_pgtable.ops)!)
            .assumingMemoryBound(to: io_pgtable.self)
    }

    /// The table behind live ops, or nil (with no WARN) for ops that were never allocated or already freed.
    public init?(ops: UnsafeMutablePointer<io_pgtable_ops>?) {
        guard let ops, PageTableRegistry.shared.contains(ops) else { return nil }
        self.ops = ops
        let iop = (UnsafeMutableRawPointer(ops) - MemoryLayout<io_pgtable>.offset(of: \io_pgtable.ops)!)
        family = FormatFamily(iop.assumingMemoryBound(to: io_pgtable.self).pointee.fmt)!
    }

    private init(ops: UnsafeMutablePointer<io_pgtable_ops>, family: FormatFamily) {
        self.ops = ops
        self.family = family
    }

    /// The handle as one word, for publishing it to threads that take no lock: the ops' address (8-byte
    /// aligned) with the family in bits 0-2. Never 0.
    @inlinable @inline(__always) public var word: Int { Int(bitPattern: ops) | Int(family.rawValue) }

    /// The handle `word` was made from (no liveness check, as for the handle itself).
    @inlinable @inline(__always) public init(word: Int) {
        ops = UnsafeMutablePointer(bitPattern: word & ~7).unsafelyUnwrapped
        family = FormatFamily(rawValue: UInt8(truncatingIfNeeded: word & 7)).unsafelyUnwrapped
    }

    // MARK: alloc_io_pgtable_ops, free_io_pgtable_ops

    /// Allocate a table in `memory`, narrowing `config` and filling its registers. The ops' function pointers
    /// are left NULL for the caller (the ABI layer) to fill in. Kernel: `alloc_io_pgtable_ops`.
    public static func allocate(format fmt: io_pgtable_fmt, config: UnsafeMutablePointer<io_pgtable_cfg>,
                                cookie: UnsafeMutableRawPointer?, memory: SimulatedMemory) -> IOPageTable? {
        guard fmt.rawValue < IO_PGTABLE_NUM_FMTS.rawValue else {
            reject(fmt, "unknown format")
            return nil
        }
        guard let family = FormatFamily(fmt) else {
            reject(fmt, "format not modelled")
            return nil
        }
        // check_custom_allocator: both hooks or neither, and only where the format accepts them.
        let custom = config.pointee.alloc != nil || config.pointee.free != nil
        if custom && (config.pointee.alloc == nil || config.pointee.free == nil || family != .armLPAE) {
            reject(fmt, "custom allocator incomplete or not supported by the format")
            return nil
        }
        switch family {
        case .armLPAE: return make(ARMLPAETable.self, fmt, config, cookie, memory, family)
        case .armV7S: return make(ARMv7STable.self, fmt, config, cookie, memory, family)
        case .appleDART: return make(AppleDARTTable.self, fmt, config, cookie, memory, family)
        }
    }

    private static func reject(_ fmt: io_pgtable_fmt, _ why: String) {
        Kernel.log(.debug, "io-pgtable: \(formatName(fmt)): \(why)")
    }

    private static func make<F: PageTableFormat>(_: F.Type, _ fmt: io_pgtable_fmt, _ config: UnsafeMutablePointer<io_pgtable_cfg>,
                                                 _ cookie: UnsafeMutableRawPointer?, _ memory: SimulatedMemory,
                                                 _ family: FormatFamily) -> IOPageTable? {
        typealias Box = PageTableBox<F>
        guard let raw = memory.kmalloc(size: MemoryLayout<Box>.size, gfp: GFP.kernel.union(.zero),
                                       site: PageTableSite.state) else { return nil }
        let common = Box.common(raw)
        common.initialize(to: PageTableCommon(family: family, splitBlocks: PageTableRegistry.shared.defaultSplitBlocks,
                                              stats: TableStatistics()))
        let owner = Unmanaged.passRetained(memory)
        let context = TableContext(owner: owner, banks: memory.physical.banks.baseAddress!,
                                   bankCount: memory.physical.banks.count, pageShift: memory.geometry.shift,
                                   coherent: config.pointee.coherent_walk, customAlloc: config.pointee.alloc,
                                   customFree: config.pointee.free, cookie: cookie, common: common)
        let format: F
        do {
            format = try F(format: fmt, config: &config.pointee, context: context)
        } catch {
            memory.kfree(raw)
            owner.release()
            reject(fmt, "configuration refused (quirks \(Kernel.hex(config.pointee.quirks)), page sizes "
                   + "\(Kernel.hex(config.pointee.pgsize_bitmap)), ias \(config.pointee.ias), oas \(config.pointee.oas)): \(error)")
            return nil
        }
        let box = raw.assumingMemoryBound(to: Box.self)
        (raw + MemoryLayout<Box>.offset(of: \Box.format)!).initializeMemory(as: Unmanaged<F>.self,
                                                                            repeating: .passRetained(format), count: 1)
        Box.iop(box).initialize(to: io_pgtable(fmt: fmt, cookie: cookie, cfg: config.pointee, ops: io_pgtable_ops()))
        let ops = withUnsafeMutablePointer(to: &Box.iop(box).pointee.ops) { $0 }
        PageTableRegistry.shared.insert(ops)
        return IOPageTable(ops: ops, family: family)
    }

    /// Flush the TLB through the driver's ops, free every table and the state. Returns false (with a WARN)
    /// for ops that are not live. Kernel: `free_io_pgtable_ops`.
    @discardableResult
    public static func free(_ ops: UnsafeMutablePointer<io_pgtable_ops>) -> Bool {
        guard PageTableRegistry.shared.remove(ops) else {
            Kernel.warn("free_io_pgtable_ops: \(Kernel.hex(UInt(bitPattern: ops))) is not a live io_pgtable_ops "
                        + "(freed twice, or never allocated)")
            return false
        }
        let table = IOPageTable(ops: ops, family: FormatFamily(ops: ops))
        Flush.all(table.iop)
        switch table.family {
        case .armLPAE: release(ARMLPAETable.self, ops)
        case .armV7S: release(ARMv7STable.self, ops)
        case .appleDART: release(AppleDARTTable.self, ops)
        }
        return true
    }

    private static func release<F: PageTableFormat>(_: F.Type, _ ops: UnsafeMutablePointer<io_pgtable_ops>) {
        let box = PageTableBox<F>.from(ops: ops)
        let format = box.pointee.format
        format._withUnsafeGuaranteedRef { $0.destroy() }
        let owner = format._withUnsafeGuaranteedRef { $0.context.owner }
        // Clear the ops so that a call through freed ops fails at the C caller's first dereference.
        PageTableBox<F>.iop(box).pointee.ops = io_pgtable_ops()
        owner.takeUnretainedValue().kfree(UnsafeRawPointer(box))
        format.release()
        owner.release()
    }

    // MARK: Operations (for Swift callers; the C ops reach the same code through the per-family entries)

    /// Map `count` pages of `pageSize`. Returns the bytes mapped (one batch, as the kernel's map_pages);
    /// throws the errno. Kernel: `io_pgtable_ops->map_pages`.
    public func map(iova: IOVirtualAddress, paddr: PhysicalAddress, pageSize: UInt64, count: Int, prot: IOMMUProt,
                    gfp: GFP = .kernel) throws(Errno) -> Int {
        var mapped = 0
        let r: Int32
        switch family {
        case .armLPAE: r = PageTableEntry<ARMLPAETable>.map(ops, iova.rawValue, paddr.rawValue, pageSize, count, prot.rawValue, gfp.rawValue, &mapped)
        case .armV7S: r = PageTableEntry<ARMv7STable>.map(ops, iova.rawValue, paddr.rawValue, pageSize, count, prot.rawValue, gfp.rawValue, &mapped)
        case .appleDART: r = PageTableEntry<AppleDARTTable>.map(ops, iova.rawValue, paddr.rawValue, pageSize, count, prot.rawValue, gfp.rawValue, &mapped)
        }
        if r != 0 { throw Errno(negated: r) ?? .invalid }
        return mapped
    }

    /// Map with raw kernel arguments: 0 or -errno, `mapped` grows by what was mapped.
    public func mapPages(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32 = GFP.kernel.rawValue,
                         mapped: inout Int) -> Int32 {
        switch family {
        case .armLPAE: PageTableEntry<ARMLPAETable>.map(ops, iova, paddr, pageSize, count, prot, gfp, &mapped)
        case .armV7S: PageTableEntry<ARMv7STable>.map(ops, iova, paddr, pageSize, count, prot, gfp, &mapped)
        case .appleDART: PageTableEntry<AppleDARTTable>.map(ops, iova, paddr, pageSize, count, prot, gfp, &mapped)
        }
    }

    /// Kernel: `io_pgtable_ops->unmap_pages`. Returns the bytes unmapped.
    public func unmap(iova: IOVirtualAddress, pageSize: UInt64, count: Int,
                      gather: UnsafeMutablePointer<iommu_iotlb_gather>? = nil) -> UInt64 {
        switch family {
        case .armLPAE: PageTableEntry<ARMLPAETable>.unmap(ops, iova.rawValue, pageSize, count, gather)
        case .armV7S: PageTableEntry<ARMv7STable>.unmap(ops, iova.rawValue, pageSize, count, gather)
        case .appleDART: PageTableEntry<AppleDARTTable>.unmap(ops, iova.rawValue, pageSize, count, gather)
        }
    }

    /// Kernel: `io_pgtable_ops->iova_to_phys`. 0 when unmapped.
    public func iovaToPhys(_ iova: IOVirtualAddress) -> PhysicalAddress {
        let pa = switch family {
        case .armLPAE: PageTableEntry<ARMLPAETable>.iovaToPhys(ops, iova.rawValue)
        case .armV7S: PageTableEntry<ARMv7STable>.iovaToPhys(ops, iova.rawValue)
        case .appleDART: PageTableEntry<AppleDARTTable>.iovaToPhys(ops, iova.rawValue)
        }
        return PhysicalAddress(pa)
    }

    /// Free the table (see `free(_:)`).
    public func free() { Self.free(ops) }

    /// The text dump: a header line, then one line per valid descriptor, indented by level.
    public func dump() -> String {
        var out = ""
        switch family {
        case .armLPAE: PageTableBox<ARMLPAETable>.with(ops) { $0.dump(into: &out) }
        case .armV7S: PageTableBox<ARMv7STable>.with(ops) { $0.dump(into: &out) }
        case .appleDART: PageTableBox<AppleDARTTable>.with(ops) { $0.dump(into: &out) }
        }
        return out
    }

    /// Table memory and cache maintenance so far; `sideBytes` is the kmalloc'd state plus the format's
    /// private data on the host heap.
    public var statistics: (tableBytes: UInt64, tables: UInt64, sideBytes: UInt64, syncs: UInt64) {
        let s = common.pointee.stats
        let side: Int = switch family {
        case .armLPAE: Self.sideBytes(ARMLPAETable.self, ops)
        case .armV7S: Self.sideBytes(ARMv7STable.self, ops)
        case .appleDART: Self.sideBytes(AppleDARTTable.self, ops)
        }
        return (s.tableBytes, s.tables, UInt64(side), s.syncs)
    }

    private static func sideBytes<F: PageTableFormat>(_: F.Type, _ ops: UnsafeMutablePointer<io_pgtable_ops>) -> Int {
        let object = PageTableBox<F>.from(ops: ops).pointee.format.toOpaque()
        return MemoryLayout<PageTableBox<F>>.size + swiommu_pgt_heap_size(object)
    }

    /// Split blocks on a partial unmap (Linux 6.6-6.12) instead of refusing it (6.17).
    public var splitBlocks: Bool {
        get { common.pointee.splitBlocks }
        nonmutating set { common.pointee.splitBlocks = newValue }
    }

    /// swiommu's bookkeeping beside the `struct io_pgtable`.
    private var common: UnsafeMutablePointer<PageTableCommon> {
        switch family {
        case .armLPAE: Self.common(ARMLPAETable.self, ops)
        case .armV7S: Self.common(ARMv7STable.self, ops)
        case .appleDART: Self.common(AppleDARTTable.self, ops)
        }
    }

    private static func common<F: PageTableFormat>(_: F.Type, _ ops: UnsafeMutablePointer<io_pgtable_ops>)
        -> UnsafeMutablePointer<PageTableCommon> {
        PageTableBox<F>.common(UnsafeMutableRawPointer(PageTableBox<F>.from(ops: ops)))
    }

    /// The default of `splitBlocks` for tables allocated from now on.
    public static var splitBlocksByDefault: Bool {
        get { PageTableRegistry.shared.defaultSplitBlocks }
        set { PageTableRegistry.shared.defaultSplitBlocks = newValue }
    }

    /// The narrowed configuration the table was allocated with (the kernel's `iop->cfg`).
    public var config: io_pgtable_cfg { iop.pointee.cfg }
    public var format: io_pgtable_fmt { iop.pointee.fmt }
}

extension FormatFamily {
    init(ops: UnsafeMutablePointer<io_pgtable_ops>) {
        let iop = (UnsafeMutableRawPointer(ops) - MemoryLayout<io_pgtable>.offset(of: \io_pgtable.ops)!)
            .assumingMemoryBound(to: io_pgtable.self)
        self = FormatFamily(iop.pointee.fmt)!
    }
}

// MARK: Entry points behind the C ops

/// The operations with the kernel's argument types, per format: what `io_pgtable_ops` points at (through
/// the ABI layer's exports). Checks nothing the format does not check itself.
enum PageTableEntry<F: PageTableFormat> {
    @inline(__always)
    static func map(_ ops: UnsafeMutablePointer<io_pgtable_ops>, _ iova: UInt64, _ paddr: UInt64, _ pageSize: UInt64,
                    _ count: Int, _ prot: Int32, _ gfp: UInt32, _ mapped: inout Int) -> Int32 {
        let box = PageTableBox<F>.from(ops: ops)
        let iop = PageTableBox<F>.iop(box)
        return box.pointee.format._withUnsafeGuaranteedRef { format in
            do throws(Errno) {
                try format.map(iop, iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot,
                               gfp: GFP(rawValue: gfp), mapped: &mapped)
                return 0
            } catch {
                return error.negated
            }
        }
    }

    @inline(__always)
    static func unmap(_ ops: UnsafeMutablePointer<io_pgtable_ops>, _ iova: UInt64, _ pageSize: UInt64, _ count: Int,
                      _ gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> UInt64 {
        let box = PageTableBox<F>.from(ops: ops)
        let iop = PageTableBox<F>.iop(box)
        return box.pointee.format._withUnsafeGuaranteedRef {
            $0.unmap(iop, iova: iova, pageSize: pageSize, count: count, gather: gather)
        }
    }

    @inline(__always)
    static func iovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>, _ iova: UInt64) -> UInt64 {
        PageTableBox<F>.with(ops) { $0.iovaToPhys(iova) }
    }
}

/// The C-typed entry points of the ARM LPAE formats, for the ABI layer's exports.
public enum ARMLPAEOps {
    public static func mapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, paddr: UInt64, pageSize: Int,
                                count: Int, prot: Int32, gfp: UInt32, mapped: UnsafeMutablePointer<Int>?) -> Int32 {
        if let mapped { return PageTableEntry<ARMLPAETable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &mapped.pointee) }
        var scratch = 0
        return PageTableEntry<ARMLPAETable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &scratch)
    }

    public static func unmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, pageSize: Int, count: Int,
                                  gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> Int {
        Int(truncatingIfNeeded: PageTableEntry<ARMLPAETable>.unmap(ops, iova, UInt64(bitPattern: Int64(pageSize)), count, gather))
    }

    public static func iovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64) -> UInt64 {
        PageTableEntry<ARMLPAETable>.iovaToPhys(ops, iova)
    }

    /// Kernel: `arm_lpae_pgtable_walk`; `data` is a `struct arm_lpae_io_pgtable_walk_data`.
    public static func pgtableWalk(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64,
                                   data: UnsafeMutableRawPointer?) -> Int32 {
        guard let data else { return Errno.invalid.negated }
        let ptes = data.assumingMemoryBound(to: UInt64.self)
        return PageTableBox<ARMLPAETable>.with(ops) { $0.walk(iova, into: ptes) }
    }
}

/// The C-typed entry points of the ARMv7 short-descriptor format.
public enum ARMv7SOps {
    public static func mapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, paddr: UInt64, pageSize: Int,
                                count: Int, prot: Int32, gfp: UInt32, mapped: UnsafeMutablePointer<Int>?) -> Int32 {
        if let mapped { return PageTableEntry<ARMv7STable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &mapped.pointee) }
        var scratch = 0
        return PageTableEntry<ARMv7STable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &scratch)
    }

    public static func unmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, pageSize: Int, count: Int,
                                  gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> Int {
        Int(truncatingIfNeeded: PageTableEntry<ARMv7STable>.unmap(ops, iova, UInt64(bitPattern: Int64(pageSize)), count, gather))
    }

    public static func iovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64) -> UInt64 {
        PageTableEntry<ARMv7STable>.iovaToPhys(ops, iova)
    }
}

/// The C-typed entry points of the Apple DART formats.
public enum AppleDARTOps {
    public static func mapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, paddr: UInt64, pageSize: Int,
                                count: Int, prot: Int32, gfp: UInt32, mapped: UnsafeMutablePointer<Int>?) -> Int32 {
        if let mapped { return PageTableEntry<AppleDARTTable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &mapped.pointee) }
        var scratch = 0
        return PageTableEntry<AppleDARTTable>.map(ops, iova, paddr, UInt64(bitPattern: Int64(pageSize)), count, prot, gfp, &scratch)
    }

    public static func unmapPages(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64, pageSize: Int, count: Int,
                                  gather: UnsafeMutablePointer<iommu_iotlb_gather>?) -> Int {
        Int(truncatingIfNeeded: PageTableEntry<AppleDARTTable>.unmap(ops, iova, UInt64(bitPattern: Int64(pageSize)), count, gather))
    }

    public static func iovaToPhys(_ ops: UnsafeMutablePointer<io_pgtable_ops>, iova: UInt64) -> UInt64 {
        PageTableEntry<AppleDARTTable>.iovaToPhys(ops, iova)
    }
}
