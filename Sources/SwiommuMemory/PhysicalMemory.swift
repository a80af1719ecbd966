// Simulated physical RAM: banks at real physical addresses, backed lazily by one memfd so that a page can
// appear at several CPU addresses (linear map, vmalloc, vmap), with a struct page array per bank.
import Glibc
import CKernel
import CSwiommuGlue
import SwiommuBase

/// Where a RAM bank sits and how large it is.
public struct RAMBankLayout: Sendable, Equatable {
    public var start: PhysicalAddress
    public var size: UInt64
    public init(start: PhysicalAddress, size: UInt64) {
        self.start = start
        self.size = size
    }

    /// The default machine: 2 GiB below 4 GiB and 2 GiB above it.
    public static let defaultLayout = [
        RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 0x8000_0000),
        RAMBankLayout(start: PhysicalAddress(0x8_8000_0000), size: 0x8000_0000),
    ]
}

/// One bank of simulated RAM as the CPU sees it.
public struct RAMBank {
    public let start: PhysicalAddress
    public let size: UInt64
    /// The bank in the CPU's linear map (the memfd mapped shared).
    public let base: UnsafeMutableRawPointer
    /// Its struct page array (the kernel's vmemmap), lazily backed.
    public let pages: UnsafeMutablePointer<PageFrame>
    public let pageCount: Int
    public let firstPFN: UInt64
    /// Offset of the bank in the memfd.
    public let fileOffset: Int

    @inlinable public var end: PhysicalAddress { start + size }
    @inlinable public func contains(_ pa: PhysicalAddress) -> Bool { pa >= start && pa.rawValue < end.rawValue }
    @inlinable public func contains(virtual p: UnsafeRawPointer) -> Bool {
        let off = UInt(bitPattern: p) &- UInt(bitPattern: base)
        return off < UInt(size)
    }
    @inlinable public func contains(page p: UnsafePointer<PageFrame>) -> Bool {
        let idx = p - UnsafePointer(pages)
        return idx >= 0 && idx < pageCount && UnsafePointer(pages + idx) == p
    }
}

/// All banks of simulated RAM and the conversions between physical addresses, frames, struct pages and
/// linear-map addresses. Kernel: the memblock layout plus `phys_to_virt`, `pfn_to_page` and friends.
public final class PhysicalMemory: @unchecked Sendable {
    public let geometry: PageGeometry
    public let banks: UnsafeMutableBufferPointer<RAMBank>
    /// The memfd behind every bank.
    public let fd: Int32

    /// Maps every bank. Throws `.invalid` for a layout that is not page aligned or overlaps,
    /// `.noMemory` when the host refuses the mappings.
    public init(layout: [RAMBankLayout], geometry: PageGeometry) throws(Errno) {
        let pageSize = UInt64(geometry.size)
        let sorted = layout.sorted { $0.start < $1.start }
        var previousEnd: UInt64 = 0
        var total: UInt64 = 0
        for b in sorted {
            let (end, wraps) = b.start.rawValue.addingReportingOverflow(b.size)
            guard b.size > 0, b.start.rawValue % pageSize == 0, b.size % pageSize == 0, !wraps,
                  b.start.rawValue >= previousEnd else { throw .invalid }
            previousEnd = end
            let (sum, tooMuch) = total.addingReportingOverflow(b.size)
            guard !tooMuch, sum <= UInt64(Int.max) else { throw .noMemory }
            total = sum
        }
        let fd = swiommu_glue_memfd_create("swiommu-ram")
        guard fd >= 0 else { throw .noMemory }
        guard ftruncate(fd, off_t(total)) == 0 else {
            close(fd)
            throw .noMemory
        }
        // Stored properties are set only once everything is mapped: a throw before that runs no deinit.
        let banks = UnsafeMutableBufferPointer<RAMBank>.allocate(capacity: sorted.count)
        var offset = 0
        for (i, b) in sorted.enumerated() {
            let count = Int(b.size / pageSize)
            let base = Self.mapLinear(fd: fd, offset: offset, size: Int(b.size), physical: b.start)
            let meta = mmap(nil, count * MemoryLayout<PageFrame>.stride, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
            guard let base, base != MAP_FAILED, let meta, meta != MAP_FAILED else {
                if let base, base != MAP_FAILED { munmap(base, Int(b.size)) }
                if let meta, meta != MAP_FAILED { munmap(meta, count * MemoryLayout<PageFrame>.stride) }
                for j in 0..<i { Self.unmap(banks[j], pageSize: pageSize) }
                banks.deallocate()
                close(fd)
                throw .noMemory
            }
            banks.baseAddress!.advanced(by: i).initialize(to: RAMBank(
                start: b.start, size: b.size, base: base,
                pages: meta.bindMemory(to: PageFrame.self, capacity: count), pageCount: count,
                firstPFN: b.start.rawValue >> UInt64(geometry.shift), fileOffset: offset))
            offset += Int(b.size)
        }
        self.geometry = geometry
        self.fd = fd
        self.banks = banks
    }

    deinit {
        for b in banks { Self.unmap(b, pageSize: UInt64(geometry.size)) }
        banks.deallocate()
        close(fd)
    }

    /// The linear map keeps physical alignment: a bank's CPU address is congruent to its physical address
    /// modulo 1 GiB, so every block up to the largest MAX_PAGE_ORDER block (512 MiB with 64K pages), and
    /// every power-of-two kmalloc object, is as aligned for the CPU as it is in RAM, as in the kernel.
    private static let linearAlignment = 1 << 30

    private static func mapLinear(fd: Int32, offset: Int, size: Int, physical: PhysicalAddress) -> UnsafeMutableRawPointer? {
        let span = size + linearAlignment
        guard let area = mmap(nil, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
              area != MAP_FAILED else { return nil }
        let start = UInt(bitPattern: area)
        let phase = UInt(physical.rawValue) & UInt(linearAlignment - 1)
        var target = (start & ~UInt(linearAlignment - 1)) + phase
        if target < start { target += UInt(linearAlignment) }
        let mapped = mmap(UnsafeMutableRawPointer(bitPattern: target), size, PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, off_t(offset))
        guard let mapped, mapped != MAP_FAILED else {
            munmap(area, span)
            return nil
        }
        // Give back the unused head and tail of the reservation.
        if target > start { munmap(area, Int(target - start)) }
        let tail = target + UInt(size)
        if tail < start + UInt(span) { munmap(UnsafeMutableRawPointer(bitPattern: tail), Int(start + UInt(span) - tail)) }
        return mapped
    }

    private static func unmap(_ b: RAMBank, pageSize: UInt64) {
        munmap(b.base, Int(b.size))
        munmap(UnsafeMutableRawPointer(b.pages), b.pageCount * MemoryLayout<PageFrame>.stride)
    }

    public var totalBytes: UInt64 { banks.reduce(0) { $0 + $1.size } }

    // MARK: Lookups (a linear scan: there are a handful of banks)

    @inlinable public func bankIndex(containing pa: PhysicalAddress) -> Int? {
        for i in 0..<banks.count where banks[i].contains(pa) { return i }
        return nil
    }

    @inlinable public func bankIndex(containingVirtual p: UnsafeRawPointer) -> Int? {
        for i in 0..<banks.count where banks[i].contains(virtual: p) { return i }
        return nil
    }

    @inlinable public func bankIndex(containingPage p: UnsafePointer<PageFrame>) -> Int? {
        for i in 0..<banks.count where banks[i].contains(page: p) { return i }
        return nil
    }

    /// Whether `[pa, pa + size)` lies inside one bank.
    public func isRAM(_ pa: PhysicalAddress, size: UInt64) -> Bool {
        guard let i = bankIndex(containing: pa) else { return false }
        return size <= banks[i].end - pa
    }

    // MARK: Conversions. Kernel: phys_to_virt, virt_to_phys, pfn_to_page, page_to_pfn, page_address.

    public func virtualAddress(of pa: PhysicalAddress) -> UnsafeMutableRawPointer? {
        guard let i = bankIndex(containing: pa) else { return nil }
        return banks[i].base + Int(pa - banks[i].start)
    }

    public func physicalAddress(ofVirtual p: UnsafeRawPointer) -> PhysicalAddress? {
        guard let i = bankIndex(containingVirtual: p) else { return nil }
        return banks[i].start + UInt64(UInt(bitPattern: p) &- UInt(bitPattern: banks[i].base))
    }

    public func page(for pfn: PFN) -> UnsafeMutablePointer<PageFrame>? {
        for i in 0..<banks.count {
            let idx = pfn.rawValue &- banks[i].firstPFN
            if idx < UInt64(banks[i].pageCount) { return banks[i].pages + Int(idx) }
        }
        return nil
    }

    @inlinable
    public func pfn(of p: UnsafePointer<PageFrame>) -> PFN? {
        guard let i = bankIndex(containingPage: p) else { return nil }
        return PFN(banks[i].firstPFN + UInt64(p - UnsafePointer(banks[i].pages)))
    }

    @inlinable
    public func physicalAddress(of p: UnsafePointer<PageFrame>) -> PhysicalAddress? {
        pfn(of: p).map { $0.address(pageShift: geometry.shift) }
    }

    public func virtualAddress(of p: UnsafePointer<PageFrame>) -> UnsafeMutableRawPointer? {
        guard let i = bankIndex(containingPage: p) else { return nil }
        return banks[i].base + (p - UnsafePointer(banks[i].pages)) << geometry.shift
    }

    public func page(containingVirtual p: UnsafeRawPointer) -> UnsafeMutablePointer<PageFrame>? {
        guard let i = bankIndex(containingVirtual: p) else { return nil }
        let off = UInt(bitPattern: p) &- UInt(bitPattern: banks[i].base)
        return banks[i].pages + Int(off >> UInt(geometry.shift))
    }

    public func page(containing pa: PhysicalAddress) -> UnsafeMutablePointer<PageFrame>? {
        guard let i = bankIndex(containing: pa) else { return nil }
        return banks[i].pages + Int((pa - banks[i].start) >> UInt64(geometry.shift))
    }

    /// The memfd offset of a page, for mapping it at another CPU address.
    public func fileOffset(of p: UnsafePointer<PageFrame>) -> Int? {
        guard let i = bankIndex(containingPage: p) else { return nil }
        return banks[i].fileOffset + (p - UnsafePointer(banks[i].pages)) << geometry.shift
    }
}
