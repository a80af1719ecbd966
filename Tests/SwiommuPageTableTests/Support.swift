// Shared helpers of the page-table tests: memory, tables, recording flush ops, raw descriptor access.
import Glibc
import Testing
import CKernel
@testable import SwiommuBase
@testable import SwiommuMemory
@testable import SwiommuPageTable

let SZ_4K: UInt64 = 0x1000, SZ_16K: UInt64 = 0x4000, SZ_64K: UInt64 = 0x10000
let SZ_1M: UInt64 = 0x10_0000, SZ_2M: UInt64 = 0x20_0000, SZ_16M: UInt64 = 0x100_0000, SZ_32M: UInt64 = 0x200_0000
let SZ_512M: UInt64 = 0x2000_0000, SZ_1G: UInt64 = 0x4000_0000, SZ_2G: UInt64 = 0x8000_0000

let R = IOMMUProt.read.rawValue, W = IOMMUProt.write.rawValue, CACHE = IOMMUProt.cache.rawValue
let NOEXEC = IOMMUProt.noExec.rawValue, MMIO = IOMMUProt.mmio.rawValue, PRIV = IOMMUProt.priv.rawValue

/// The default machine's RAM (2 GiB below and 2 GiB above 4 GiB), lazily backed.
func makeMemory(_ geometry: PageGeometry = .k4) throws -> SimulatedMemory {
    try SimulatedMemory(layout: RAMBankLayout.defaultLayout, geometry: geometry)
}

// MARK: Flush ops that record what io-pgtable asked for

struct FlushRecord {
    var all = 0
    var walks: [(iova: UInt64, size: Int, granule: Int)] = []
    var pages: [(iova: UInt64, granule: Int)] = []
    var gathers: [UnsafeMutableRawPointer?] = []
    /// The cookie every call must pass, and how many did not; page sizes every call must be one of.
    var expectedCookie: UnsafeMutableRawPointer?
    var pageSizes: UInt64 = 0
    var bad = 0
}

nonisolated(unsafe) var flushes = FlushRecord()

/// The selftests' dummy_tlb_ops: record, and count calls with a wrong cookie or a size outside the bitmap.
nonisolated(unsafe) let recordingFlushOps: UnsafeMutablePointer<iommu_flush_ops> = {
    let ops = UnsafeMutablePointer<iommu_flush_ops>.allocate(capacity: 1)
    ops.initialize(to: iommu_flush_ops(
        tlb_flush_all: { cookie in
            flushes.all += 1
            if flushes.expectedCookie != nil && cookie != flushes.expectedCookie { flushes.bad += 1 }
        },
        tlb_flush_walk: { iova, size, granule, cookie in
            flushes.walks.append((UInt64(iova), size, granule))
            if flushes.expectedCookie != nil && cookie != flushes.expectedCookie { flushes.bad += 1 }
            if flushes.pageSizes != 0 && UInt64(size) & flushes.pageSizes == 0 { flushes.bad += 1 }
        },
        tlb_add_page: { gather, iova, granule, cookie in
            flushes.pages.append((UInt64(iova), granule))
            flushes.gathers.append(UnsafeMutableRawPointer(gather))
            if flushes.expectedCookie != nil && cookie != flushes.expectedCookie { flushes.bad += 1 }
            if flushes.pageSizes != 0 && UInt64(granule) & flushes.pageSizes == 0 { flushes.bad += 1 }
        }))
    return ops
}()

// MARK: Tables

/// A table with its own cfg (the cookie), freed by `close()`.
struct TestTable {
    let memory: SimulatedMemory
    let cfg: UnsafeMutablePointer<io_pgtable_cfg>
    let table: IOPageTable
    let fmt: io_pgtable_fmt

    var ops: UnsafeMutablePointer<io_pgtable_ops> { table.ops }
    var cookie: UnsafeMutableRawPointer { UnsafeMutableRawPointer(cfg) }

    /// Map, returning the errno (0) and adding to nothing: kernel-style.
    func map(_ iova: UInt64, _ paddr: UInt64, _ size: UInt64, count: Int = 1, prot: Int32 = R | W,
             mapped: UnsafeMutablePointer<Int>? = nil) -> Int32 {
        var done = 0
        let r = table.mapPages(iova: iova, paddr: paddr, pageSize: size, count: count, prot: prot, mapped: &done)
        mapped?.pointee += done
        return r
    }

    func unmap(_ iova: UInt64, _ size: UInt64, count: Int = 1, gather: UnsafeMutablePointer<iommu_iotlb_gather>? = nil) -> UInt64 {
        table.unmap(iova: IOVirtualAddress(iova), pageSize: size, count: count, gather: gather)
    }

    func phys(_ iova: UInt64) -> UInt64 { table.iovaToPhys(IOVirtualAddress(iova)).rawValue }

    /// The hardware walker over this table's registers.
    func walker() -> PageTableWalker? { PageTableWalker(format: fmt, config: cfg, memory: memory) }

    func translate(_ iova: UInt64, _ access: WalkAccess = .read) -> Result<WalkTranslation, WalkFault> {
        walker()!.translate(iova, access: access)
    }

    func close() {
        table.free()
        cfg.deallocate()
    }
}

/// Allocate a table; nil when alloc_io_pgtable_ops refuses the configuration.
func makeTable(_ fmt: io_pgtable_fmt, pageSizes: UInt64, ias: UInt32, oas: UInt32, coherent: Bool = true,
               quirks: UInt = 0, tlb: UnsafePointer<iommu_flush_ops>? = UnsafePointer(recordingFlushOps),
               memory: SimulatedMemory, configure: (inout io_pgtable_cfg) -> Void = { _ in }) -> TestTable? {
    let cfg = UnsafeMutablePointer<io_pgtable_cfg>.allocate(capacity: 1)
    cfg.initialize(to: io_pgtable_cfg())
    cfg.pointee.pgsize_bitmap = UInt(pageSizes)
    cfg.pointee.ias = ias
    cfg.pointee.oas = oas
    cfg.pointee.coherent_walk = coherent
    cfg.pointee.quirks = quirks
    cfg.pointee.tlb = tlb
    configure(&cfg.pointee)
    guard let table = IOPageTable.allocate(format: fmt, config: cfg, cookie: UnsafeMutableRawPointer(cfg), memory: memory) else {
        cfg.deallocate()
        return nil
    }
    return TestTable(memory: memory, cfg: cfg, table: table, fmt: fmt)
}

// MARK: Raw descriptors

/// The 64-bit descriptor at `index` of the table at `pa`, as the CPU sees it.
func entry64(_ memory: SimulatedMemory, _ pa: UInt64, _ index: Int) -> UInt64 {
    memory.physical.virtualAddress(of: PhysicalAddress(pa))!.load(fromByteOffset: index * 8, as: UInt64.self)
}

/// The 32-bit descriptor at `index` of the table at `pa`, as the CPU sees it.
func entry32(_ memory: SimulatedMemory, _ pa: UInt64, _ index: Int) -> UInt32 {
    memory.physical.virtualAddress(of: PhysicalAddress(pa))!.load(fromByteOffset: index * 4, as: UInt32.self)
}

/// The same descriptor as a non-coherent device sees it (memory's view).
func deviceEntry64(_ memory: SimulatedMemory, _ pa: UInt64, _ index: Int) -> UInt64 {
    var v: UInt64 = 0
    withUnsafeMutableBytes(of: &v) {
        _ = memory.deviceRead(PhysicalAddress(pa + UInt64(index * 8)), into: $0.baseAddress!, size: 8, coherent: false)
    }
    return v
}

/// Bits [47:12] of a 4K/16K long descriptor: the next table or output address.
func address(_ pte: UInt64) -> UInt64 { pte & 0x0000_ffff_ffff_f000 }

// MARK: WARN records

func warnCount() -> UInt { UInt(swiommu_warn_count()) }
func lastWarn() -> String { String(cString: swiommu_warn_last()) }

/// Run `body` and return how many WARNs it recorded.
func warns(_ body: () throws -> Void) rethrows -> UInt {
    let before = warnCount()
    try body()
    return warnCount() - before
}

/// Expect `body` to record exactly `count` WARNs.
func expectWarns(_ count: UInt, sourceLocation: SourceLocation = #_sourceLocation, _ body: () -> Void) {
    let n = warns(body)
    #expect(n == count, "WARN records", sourceLocation: sourceLocation)
}

/// A deterministic generator (xorshift64*), so failures reproduce.
struct Rng {
    var state: UInt64
    init(_ seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 2685821657736338717
    }
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
}
