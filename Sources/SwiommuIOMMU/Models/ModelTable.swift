// The page table behind a built-in model's domain, in the format its hardware walks: an io-pgtable (ARM
// LPAE for the SMMUs and the IPMMU, Apple DART), or the table of its own that exynos-iommu.c and
// rockchip-iommu.c write. Each answers the driver's calls (map, unmap, iova_to_phys) and the hardware's
// (a walk from the context registers, independent of the driver's view, as hardware is).
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPageTable

/// What a table-walk found: the output address of the IOVA, the page size (log2), the granted permissions.
struct HardwareWalk {
    var phys: UInt64
    var sizeShift: UInt8
    var permissions: UInt8
}

/// A built-in domain's table. Callers hold the domain's lock for map and unmap.
protocol ModelTable: AnyObject {
    /// Map `count` pages of `pageSize`: 0 or -errno; `mapped` grows by what was mapped.
    func map(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32,
             mapped: inout Int) -> Int32
    /// Unmap `count` pages of `pageSize`: the bytes unmapped (0 when nothing was there).
    func unmap(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64
    /// The driver's view: the physical address, or 0.
    func iovaToPhys(_ iova: UInt64) -> UInt64
    /// The hardware's walk for an access (`write` or read): nil for a fault.
    func walk(_ iova: UInt64, write: Bool) -> Result<HardwareWalk, WalkFault>
    /// The value the model writes to its table-base register (TTBR, PT_BASE, DTE_ADDR ...), for dumps.
    var tableBase: UInt64 { get }
    /// A text dump of the live entries.
    func dump() -> String
    /// Free every table page.
    func destroy()
    /// The io-pgtable behind it, if it is one: map and unmap can go straight to it.
    var ioPageTable: IOPageTable? { get }
}

extension ModelTable {
    var ioPageTable: IOPageTable? { nil }
}

/// An io-pgtable (ARM LPAE stage 1, Apple DART) with the walker latched from its registers.
final class IOPageTableModelTable: ModelTable {
    let table: IOPageTable
    let config: UnsafeMutablePointer<io_pgtable_cfg>
    /// The walker, latched once: the table base and translation registers do not change.
    let walker: UnsafeMutablePointer<PageTableWalker>
    let format: io_pgtable_fmt

    /// Allocate a table of `format` for `config` (copied). Nil when io-pgtable refuses the configuration or
    /// memory runs out (the caller reports -ENOMEM, as alloc_io_pgtable_ops failing does).
    init?(format: io_pgtable_fmt, config cfg: io_pgtable_cfg, memory: SimulatedMemory) {
        config = .allocate(capacity: 1)
        config.initialize(to: cfg)
        guard let t = IOPageTable.allocate(format: format, config: config, cookie: nil, memory: memory) else {
            config.deallocate()
            return nil
        }
        guard let w = PageTableWalker(format: format, config: config, memory: memory) else {
            t.free()
            config.deallocate()
            return nil
        }
        table = t
        self.format = format
        walker = .allocate(capacity: 1)
        walker.initialize(to: w)
    }

    @inline(__always)
    func map(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32,
             mapped: inout Int) -> Int32 {
        table.mapPages(iova: iova, paddr: paddr, pageSize: pageSize, count: count, prot: prot, gfp: gfp, mapped: &mapped)
    }

    @inline(__always)
    func unmap(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 {
        table.unmap(iova: IOVirtualAddress(iova), pageSize: pageSize, count: count)
    }

    func iovaToPhys(_ iova: UInt64) -> UInt64 { table.iovaToPhys(IOVirtualAddress(iova)).rawValue }

    @inline(__always)
    func walk(_ iova: UInt64, write: Bool) -> Result<HardwareWalk, WalkFault> {
        switch PageTableWalker.translate(walker, iova, write ? .write : .read) {
        case .success(let t):
            return .success(HardwareWalk(phys: t.phys, sizeShift: UInt8(truncatingIfNeeded: t.size.trailingZeroBitCount),
                                         permissions: UInt8(truncatingIfNeeded: t.prot.rawValue & 3)))
        case .failure(let f):
            return .failure(f)
        }
    }

    var tableBase: UInt64 {
        switch FormatFamily(format) {
        case .appleDART: config.pointee.apple_dart_cfg.ttbr.0
        default: config.pointee.arm_lpae_s1_cfg.ttbr
        }
    }

    func dump() -> String { table.dump() }

    var ioPageTable: IOPageTable? { table }

    func destroy() {
        table.free()
        walker.deinitialize(count: 1)
        walker.deallocate()
        config.deallocate()
    }
}

/// A table in a driver's own format (exynos-iommu.c's, rockchip-iommu.c's), as the page-table layer writes it.
protocol OwnFormatTable: AnyObject {
    func map(iova: UInt64, paddr: UInt64, size: UInt64, prot: Int32) throws(DriverTableError)
    /// The driver's unmap of a `count`-page batch: the bytes it reports.
    func unmapBatch(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64
    func iovaToPhys(_ iova: UInt64) -> UInt64
    /// The hardware's walk from the table-base register the driver programs.
    func hardwareWalk(memory: SimulatedMemory, coherent: Bool, iova: UInt64, write: Bool) -> Result<WalkTranslation, WalkFault>
    var baseRegister: UInt64 { get }
    func dump(into out: inout String)
    func destroy()
}

extension ExynosSysMMUTable: OwnFormatTable {
    /// As exynos_iommu_unmap: one entry (whatever page size it is), its size returned; the core's loop
    /// picks the page size again for what is left.
    func unmapBatch(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 { unmap(iova: iova, size: pageSize) }

    func hardwareWalk(memory: SimulatedMemory, coherent: Bool, iova: UInt64, write: Bool) -> Result<WalkTranslation, WalkFault> {
        PageTableWalker.translateExynosSysMMU(memory: memory, ptBase: ptBaseRegister, majorVersion: majorVersion,
                                              coherent: coherent, iova: iova, access: write ? .write : .read)
    }

    var baseRegister: UInt64 { UInt64(ptBaseRegister) }
}

extension RockchipIOMMUTable: OwnFormatTable {
    /// rk_iommu_unmap takes the whole batch.
    func unmapBatch(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 { unmap(iova: iova, size: pageSize &* UInt64(count)) }

    func hardwareWalk(memory: SimulatedMemory, coherent: Bool, iova: UInt64, write: Bool) -> Result<WalkTranslation, WalkFault> {
        PageTableWalker.translateRockchip(memory: memory, dteAddr: dteAddrRegister, version: version, coherent: coherent,
                                          iova: iova, access: write ? .write : .read)
    }

    var baseRegister: UInt64 { UInt64(dteAddrRegister) }
}

/// A built-in model's domain table in its driver's own format (the Exynos SysMMU's two levels, the Rockchip
/// directory and page tables).
final class OwnFormatModelTable<Table: OwnFormatTable>: ModelTable {
    let table: Table
    let memory: SimulatedMemory
    let coherent: Bool

    init(table: Table, memory: SimulatedMemory, coherent: Bool) {
        self.table = table
        self.memory = memory
        self.coherent = coherent
    }

    /// Page by page: each `pageSize` piece is aligned to itself, as iommu_pgsize chose it.
    func map(iova: UInt64, paddr: UInt64, pageSize: UInt64, count: Int, prot: Int32, gfp: UInt32,
             mapped: inout Int) -> Int32 {
        for i in 0..<count {
            let off = UInt64(i) &* pageSize
            do {
                try table.map(iova: iova &+ off, paddr: paddr &+ off, size: pageSize, prot: prot)
            } catch {
                return error.negated
            }
            mapped += Int(pageSize)
        }
        return 0
    }

    func unmap(iova: UInt64, pageSize: UInt64, count: Int) -> UInt64 {
        table.unmapBatch(iova: iova, pageSize: pageSize, count: count)
    }

    func iovaToPhys(_ iova: UInt64) -> UInt64 { table.iovaToPhys(iova) }

    func walk(_ iova: UInt64, write: Bool) -> Result<HardwareWalk, WalkFault> {
        table.hardwareWalk(memory: memory, coherent: coherent, iova: iova, write: write).map {
            HardwareWalk(phys: $0.phys, sizeShift: UInt8($0.size.trailingZeroBitCount),
                         permissions: UInt8(truncatingIfNeeded: $0.prot.rawValue & 3))
        }
    }

    var tableBase: UInt64 { table.baseRegister }

    func dump() -> String {
        var s = ""
        table.dump(into: &s)
        return s
    }

    func destroy() { table.destroy() }
}

extension IOPageTableModelTable {
    /// An ARM LPAE stage-1 table as the SMMU and IPMMU drivers configure io-pgtable for a domain.
    static func lpae(_ format: io_pgtable_fmt, pageSizes: UInt64, ias: UInt32, oas: UInt32, coherent: Bool,
                     memory: SimulatedMemory) -> IOPageTableModelTable? {
        var cfg = io_pgtable_cfg()
        cfg.pgsize_bitmap = UInt(pageSizes)
        cfg.ias = ias
        cfg.oas = oas
        cfg.coherent_walk = coherent
        return IOPageTableModelTable(format: format, config: cfg, memory: memory)
    }

    /// The LPAE page sizes of a granule equal to the CPU's page size, as arm_lpae_restrict_pgsizes picks them.
    static func lpaePageSizes(cpuPageSize: Int) -> UInt64 {
        switch cpuPageSize {
        case 16384: (1 << 14) | (1 << 25)
        case 65536: (1 << 16) | (1 << 29)
        default: (1 << 12) | (1 << 21) | (1 << 30)
        }
    }
}
