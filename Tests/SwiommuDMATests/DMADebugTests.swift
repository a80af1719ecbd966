// dma-debug's machinery without a machine: the kinds against C's enum, the hash's best-fit and containing
// lookups, the active-cacheline counts, the pool, the checksum and the kernel's formats.
import Testing
import CKernel
import SwiommuPlatform
@testable import SwiommuDMA

@Suite(.serialized) struct DMADebugTests {
    typealias Reference = DebugTable.Reference

    static func device() -> UnsafeMutablePointer<Device> {
        let d = UnsafeMutablePointer<Device>.allocate(capacity: 1)
        d.initialize(to: Device())
        return d
    }

    /// An entry in its bucket, as add() leaves it (without the cacheline table).
    @discardableResult
    static func entry(_ dev: UnsafeMutablePointer<Device>, _ addr: UInt64, _ size: UInt64, _ direction: DMADirection = .toDevice,
                      paddr: UInt64 = 0) -> UnsafeMutablePointer<DebugEntry> {
        let e = DebugTable.allocate(size: size)!
        e.pointee.dev = dev
        e.pointee.devAddr = addr
        e.pointee.size = size
        e.pointee.direction = direction
        e.pointee.paddr = paddr
        let b = DebugTable.bucket(addr)
        DebugTable.lock(b)
        DebugTable.append(e, to: b)
        DebugTable.unlock(b)
        return e
    }

    static func exact(_ ref: Reference) -> UnsafeMutablePointer<DebugEntry>? {
        let (b, e) = DebugTable.findExact(ref)
        DebugTable.unlock(b)
        return e
    }

    static func containing(_ ref: Reference) -> UnsafeMutablePointer<DebugEntry>? {
        let (b, e) = DebugTable.findContaining(ref)
        DebugTable.unlock(b)
        return e
    }

    @Test func theKindsAreCsEnum() {
        let c: [swiommu_dma_debug_kind] = [
            SWIOMMU_DMA_DEBUG_FREE_INVALID, SWIOMMU_DMA_DEBUG_FREE_NOT_ALLOCATED, SWIOMMU_DMA_DEBUG_FREE_SIZE,
            SWIOMMU_DMA_DEBUG_FREE_FUNCTION, SWIOMMU_DMA_DEBUG_FREE_CPU_ADDRESS, SWIOMMU_DMA_DEBUG_FREE_SG_COUNT,
            SWIOMMU_DMA_DEBUG_FREE_DIRECTION, SWIOMMU_DMA_DEBUG_MAP_ERROR_NOT_CHECKED, SWIOMMU_DMA_DEBUG_SYNC_NOT_ALLOCATED,
            SWIOMMU_DMA_DEBUG_SYNC_DIRECTION, SWIOMMU_DMA_DEBUG_SYNC_READ_ONLY, SWIOMMU_DMA_DEBUG_SYNC_WRITE_ONLY,
            SWIOMMU_DMA_DEBUG_SYNC_SG_COUNT, SWIOMMU_DMA_DEBUG_MAP_STACK, SWIOMMU_DMA_DEBUG_MAP_TEXT,
            SWIOMMU_DMA_DEBUG_MAP_INVALID, SWIOMMU_DMA_DEBUG_MAP_VMALLOC, SWIOMMU_DMA_DEBUG_SG_SEGMENT_LENGTH,
            SWIOMMU_DMA_DEBUG_SG_SEGMENT_BOUNDARY, SWIOMMU_DMA_DEBUG_OVERLAP, SWIOMMU_DMA_DEBUG_OVERLAP_LIMIT,
            SWIOMMU_DMA_DEBUG_PENDING_AT_UNBIND, SWIOMMU_DMA_DEBUG_CPU_WRITE_UNSYNCED,
            SWIOMMU_DMA_DEBUG_DEVICE_WRITE_CPU_OWNED, SWIOMMU_DMA_DEBUG_STALE_IOTLB, SWIOMMU_DMA_DEBUG_CPU_READ_UNSYNCED,
            SWIOMMU_DMA_DEBUG_CPU_ACCESS_DEVICE_OWNED,
        ]
        #expect(DMADebugCheck.allCases.map(\.rawValue) == c.map(\.rawValue))
        #expect(DMADebugCheck.syncReadOnly.name.description == "SYNC_READ_ONLY")
    }

    @Test func anUnmapTakesTheBestFitAndNothingWhenSeveralFitAsWell() {
        #expect(DebugTable.setUp())
        defer { DebugTable.dropAll() }
        let dev = Self.device(), other = Self.device()
        defer { dev.deallocate(); other.deallocate() }
        Self.entry(dev, 0x1000, 64, .toDevice)
        Self.entry(dev, 0x1000, 128, .fromDevice)
        // A perfect fit wins.
        var ref = Reference(dev: dev, devAddr: 0x1000, size: 128, type: .single, direction: .fromDevice)
        #expect(Self.exact(ref)?.pointee.size == 128)
        // Two that fit equally well: the kernel gives up (not found).
        ref.size = 256
        ref.direction = .bidirectional
        #expect(Self.exact(ref) == nil)
        // Nor when one fits better than the other but neither perfectly.
        ref.direction = .toDevice
        #expect(Self.exact(ref) == nil)
        // Only one candidate: found, however badly it fits.
        ref.devAddr = 0x1000
        let lone = Self.entry(dev, 0x5000, 32, .fromDevice)
        #expect(Self.exact(Reference(dev: dev, devAddr: 0x5000, size: 1, type: .coherent, direction: .toDevice)) == lone)
        ref.dev = other
        #expect(Self.exact(ref) == nil)
    }

    @Test func aSyncFindsTheMappingThatContainsItFromLowerBuckets() {
        #expect(DebugTable.setUp())
        defer { DebugTable.dropAll() }
        let dev = Self.device()
        defer { dev.deallocate() }
        // 128 KiB from 0x10000: sixteen 8 KiB buckets.
        Self.entry(dev, 0x10000, 0x20000)
        #expect(Self.containing(Reference(dev: dev, devAddr: 0x2e000, size: 0x1000, type: .single, direction: .toDevice)) != nil)
        #expect(Self.containing(Reference(dev: dev, devAddr: 0x10000, size: 0x20000, type: .single, direction: .toDevice)) != nil)
        // Past its end, before its start.
        #expect(Self.containing(Reference(dev: dev, devAddr: 0x2f000, size: 0x2000, type: .single, direction: .toDevice)) == nil)
        #expect(Self.containing(Reference(dev: dev, devAddr: 0x8000, size: 0x1000, type: .single, direction: .toDevice)) == nil)
        // High addresses: the walk stops as far down as the largest mapping reaches (else 16384 buckets).
        Self.entry(dev, 0xffff_f000, 0x1000)
        #expect(Self.containing(Reference(dev: dev, devAddr: 0xffff_f800, size: 8, type: .single, direction: .toDevice)) != nil)
        #expect(Self.containing(Reference(dev: dev, devAddr: 0xfff0_0000, size: 8, type: .single, direction: .toDevice)) == nil)
    }

    @Test func liveMappingsOfOneCacheLineAreCounted() {
        #expect(DebugTable.setUp())
        defer { DebugTable.dropAll() }
        let dev = Self.device()
        defer { dev.deallocate() }
        let a = Self.entry(dev, 0x1000, 32, .fromDevice, paddr: 0x8000_0040)
        let b = Self.entry(dev, 0x2000, 32, .bidirectional, paddr: 0x8000_0060)
        let t = Self.entry(dev, 0x3000, 32, .toDevice, paddr: 0x8000_0040)
        let c = Self.entry(dev, 0x4000, 32, .fromDevice, paddr: 0x8000_0080)
        #expect(DebugTable.lineInsert(a) == 0)
        #expect(DebugTable.lineInsert(b) == 1)
        #expect(DebugTable.lineInsert(t) == 0)      // the device only reads it: not tracked
        #expect(DebugTable.lineInsert(c) == 0)      // the next line
        DebugTable.lineRemove(a)
        let d = Self.entry(dev, 0x5000, 32, .fromDevice, paddr: 0x8000_0044)
        #expect(DebugTable.lineInsert(d) == 1)
    }

    @Test func thePoolGrowsAndTakesItsEntriesBack() {
        #expect(DebugTable.setUp())
        let inUse = DebugTable.inUse
        let entries = (0..<(DebugTable.preallocated + 10)).map { _ in DebugTable.allocate(size: 64)! }
        #expect(Set(entries).count == entries.count)
        #expect(DebugTable.totalEntries >= DebugTable.preallocated + DebugTable.growth)
        #expect(DebugTable.inUse == inUse + entries.count)
        for e in entries { DebugTable.free(e) }
        #expect(DebugTable.inUse == inUse)
        DebugTable.dropAll()
    }

    static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0
        bytes.withUnsafeBytes { DMADebug.fold($0.baseAddress!, $0.count, into: &h) }
        return h
    }

    @Test func theChecksumSeesEveryByte() {
        // Every bit of every byte, in the four lanes and the tail.
        var bytes = (0..<100).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let base = Self.checksum(bytes)
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                bytes[i] ^= 1 << bit
                #expect(Self.checksum(bytes) != base, "byte \(i), bit \(bit)")
                bytes[i] ^= 1 << bit
            }
        }
        #expect(Self.checksum(bytes) == base)
    }

    @Test func theFormatsAreTheKernels() {
        #expect(DebugFormat.address(0x1234) == "0x0000000000001234")
        #expect(DebugFormat.pa(0xffff_ffff_ffff_ffff) == "0xffffffffffffffff")
        #expect(DebugFormat.pointer(nil) == "(nil)")
        #expect(DebugFormat.pointer(UnsafeRawPointer(bitPattern: 0xabc0)) == "0xabc0")
        #expect(DebugEntryType.scatterGather.name == "scatter-gather")
        #expect(DebugEntryType.noncoherent.name == "noncoherent")
        #expect(MapErrorCheck.notChecked.name == "dma map error not checked")
    }
}
