// The software IO TLB: bounce buffers in 2 KiB slots for devices that cannot reach a buffer. Kernel:
// kernel/dma/swiotlb.c without SWIOTLB_DYNAMIC, with one area (one lock) per pool. dma-direct and dma-iommu
// both call these. The pool is reserved below 4 GiB at boot, as memblock_alloc_low gives it.
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

/// Kernel: IO_TLB_SHIFT (2 KiB slots).
public let ioTLBShift = 11
/// Kernel: IO_TLB_SIZE.
public let ioTLBSize = 1 << ioTLBShift
/// Kernel: IO_TLB_SEGSIZE: a mapping uses at most this many contiguous slots.
public let ioTLBSegmentSize = 128
/// Kernel: INVALID_PHYS_ADDR.
let invalidPhysicalAddress = UInt64.max

/// One slot's bookkeeping. Kernel: struct io_tlb_slot.
struct SwiotlbSlot {
    /// The original buffer's address for this slot, or invalidPhysicalAddress.
    var origAddr: UInt64
    /// Bytes of the allocation from this slot on.
    var allocSize: Int
    /// Free slots from here to the end of the segment (0: in use).
    var list: UInt32
    /// Padding slots before the first used one (stored in the first used slot).
    var padSlots: UInt16
}

/// A pool's slots and lock, hung off `io_tlb_mem::swiommu`.
final class SwiotlbPool {
    let lock = Lock()
    let slots: UnsafeMutablePointer<SwiotlbSlot>
    let nslabs: Int
    let memory: SimulatedMemory
    /// Kernel: io_tlb_area::index (next-fit start) and ::used.
    var index = 0
    var used = 0
    /// The reservation to give back at shutdown.
    let reservedBytes: Int

    init(nslabs: Int, memory: SimulatedMemory, reservedBytes: Int) {
        self.nslabs = nslabs
        self.memory = memory
        self.reservedBytes = reservedBytes
        slots = .allocate(capacity: max(nslabs, 1))
        // Kernel: swiotlb_init_io_tlb_pool.
        for i in 0..<nslabs {
            (slots + i).initialize(to: SwiotlbSlot(origAddr: invalidPhysicalAddress, allocSize: 0,
                                                   list: UInt32(ioTLBSegmentSize - (i & (ioTLBSegmentSize - 1))),
                                                   padSlots: 0))
        }
    }

    deinit { slots.deallocate() }

    /// The pool of a device's io_tlb_mem, without reference counting.
    @inline(__always)
    static func with<R>(_ mem: UnsafeMutablePointer<io_tlb_mem>, _ body: (SwiotlbPool) -> R) -> R? {
        guard let raw = mem.pointee.swiommu else { return nil }
        return Unmanaged<SwiotlbPool>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

    /// Kernel: swiotlb_init (swiotlb_memblock_alloc + swiotlb_init_io_tlb_pool) and swiotlb_print_info.
    static func createDefault(memory: SimulatedMemory, options: BoardOptions) -> UnsafeMutablePointer<io_tlb_mem> {
        let mem = UnsafeMutablePointer<io_tlb_mem>.allocate(capacity: 1)
        mem.initialize(to: io_tlb_mem())
        // "swiotlb=<slabs>,force" on the command line forces bouncing, as setup_io_tlb_npages reads it.
        for arg in options.bootargs.split(separator: " ") where arg.hasPrefix("swiotlb=") {
            let parts = arg.dropFirst("swiotlb=".count).split(separator: ",")
            if parts.contains("force") { mem.pointee.force_bounce = true }
            if parts.contains("noforce") {
                // No pool at all, as the kernel does: kmalloc objects keep the cache line (__kmalloc_minalign).
                memory.setKmallocMinAlign(archDMAMinAlign)
                return mem
            }
        }
        let bytes = (options.swiotlbBytes + ioTLBSize - 1) & ~(ioTLBSize - 1)
        let reserved = (bytes + memory.geometry.size - 1) & ~(memory.geometry.size - 1)
        guard let start = memory.reserveContiguous(bytes: reserved, below4G: true) else {
            Kernel.log(.warning, "software IO TLB: Cannot allocate buffer")
            memory.setKmallocMinAlign(archDMAMinAlign)
            return mem
        }
        let nslabs = bytes >> ioTLBShift
        let pool = SwiotlbPool(nslabs: nslabs, memory: memory, reservedBytes: reserved)
        mem.pointee.defpool.start = start.rawValue
        mem.pointee.defpool.end = start.rawValue + UInt64(bytes)
        mem.pointee.defpool.vaddr = memory.physical.virtualAddress(of: start)
        mem.pointee.defpool.nslabs = CUnsignedLong(nslabs)
        mem.pointee.defpool.nareas = 1
        mem.pointee.defpool.area_nslabs = CUnsignedInt(nslabs)
        mem.pointee.nslabs = CUnsignedLong(nslabs)
        mem.pointee.swiommu = Unmanaged.passRetained(pool).toOpaque()
        printInfo(mem)
        return mem
    }

    /// Kernel: swiotlb_print_info.
    static func printInfo(_ mem: UnsafeMutablePointer<io_tlb_mem>) {
        let p = mem.pointee.defpool
        Kernel.log(.info, "software IO TLB: mapped [mem \(hex18(p.start))-\(hex18(p.end - 1))] "
                   + "(\((Int(p.nslabs) * ioTLBSize) >> 20)MB)")
    }

    /// The kernel's %pa: 0x and 16 hex digits.
    static func hex18(_ v: UInt64) -> String {
        let h = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 16 - h.count)) + h
    }

    static func destroy(_ mem: UnsafeMutablePointer<io_tlb_mem>, memory: SimulatedMemory) {
        if let raw = mem.pointee.swiommu {
            let pool = Unmanaged<SwiotlbPool>.fromOpaque(raw)
            memory.releaseContiguous(PhysicalAddress(mem.pointee.defpool.start), bytes: pool.takeUnretainedValue().reservedBytes)
            pool.release()
        }
        mem.deinitialize(count: 1)
        mem.deallocate()
    }

    // MARK: Slots. Kernel: swiotlb_search_pool_area, swiotlb_release_slots.

    @inline(__always) static func slotCount(_ bytes: Int) -> Int { (bytes + ioTLBSize - 1) >> ioTLBShift }
    @inline(__always) static func segmentOffset(_ i: Int) -> Int { i & (ioTLBSegmentSize - 1) }

    /// Kernel: swiotlb_search_pool_area (one area). The first slot's index, or nil.
    func findSlots(_ dev: UnsafeMutablePointer<Device>, poolStart: UInt64, origAddr: UInt64, allocSize: Int,
                   alignMask: UInt32) -> Int? {
        let boundaryMask = UInt64(dmaSegmentBoundary(dev))
        let tableDMA = DMADirect.physToDMA(dev, poolStart) & boundaryMask
        let maxSlots = (boundaryMask >> UInt64(ioTLBShift)) &+ 1
        var iotlbAlignMask = UInt64(dmaMinAlignMask(dev))
        let nslots = Self.slotCount(allocSize)
        let offset = Int(Swiotlb.alignOffset(dev, alignMask: 0, origAddr))
        var allocAlignMask = UInt64(alignMask)
        // Allocations of a page or more stay page-aligned when nothing else is asked, as they always were.
        if allocAlignMask == 0 && iotlbAlignMask == 0 && allocSize >= memory.geometry.size {
            allocAlignMask = UInt64(memory.geometry.size - 1)
        }
        allocAlignMask |= UInt64(ioTLBSize - 1)
        iotlbAlignMask &= ~allocAlignMask
        let stride = Int((max(allocAlignMask, iotlbAlignMask) >> UInt64(ioTLBShift)) + 1)

        return lock.withLock { () -> Int? in
            guard nslots <= nslabs - used else { return nil }
            var index = self.index
            var checked = 0
            while checked < nslabs {
                let slotIndex = index
                let tlbAddr = tableDMA &+ UInt64(slotIndex << ioTLBShift)
                if tlbAddr & allocAlignMask != 0
                    || (origAddr != 0 && tlbAddr & iotlbAlignMask != origAddr & iotlbAlignMask) {
                    index = index + 1 >= nslabs ? 0 : index + 1
                    checked += 1
                    continue
                }
                // Kernel: iommu_is_span_boundary(slot_index, nslots, nr_slots(tbl_dma_addr), max_slots).
                let shift = (UInt64(Self.slotCount(Int(truncatingIfNeeded: tableDMA))) &+ UInt64(slotIndex)) & (maxSlots &- 1)
                if shift &+ UInt64(nslots) <= maxSlots && slots[slotIndex].list >= UInt32(nslots) {
                    for i in slotIndex..<(slotIndex + nslots) {
                        slots[i].list = 0
                        slots[i].allocSize = allocSize - (offset + ((i - slotIndex) << ioTLBShift))
                    }
                    var count: UInt32 = 0
                    var i = slotIndex - 1
                    while i >= 0 && Self.segmentOffset(i) != ioTLBSegmentSize - 1 && slots[i].list != 0 {
                        count += 1
                        slots[i].list = count
                        i -= 1
                    }
                    let next = index + nslots
                    self.index = next >= nslabs ? 0 : next
                    used += nslots
                    return slotIndex
                }
                let next = index + stride
                index = next >= nslabs ? 0 : next
                checked += stride
            }
            return nil
        }
    }

    /// Kernel: swiotlb_release_slots.
    func releaseSlots(_ dev: UnsafeMutablePointer<Device>, tlbAddr: UInt64, poolStart: UInt64) {
        let offset = Int(Swiotlb.alignOffset(dev, alignMask: 0, tlbAddr))
        lock.withLock {
            var index = Int((tlbAddr &- UInt64(offset) &- poolStart) >> UInt64(ioTLBShift))
            index -= Int(slots[index].padSlots)
            let nslots = Self.slotCount(slots[index].allocSize + offset)
            var count: UInt32 = 0
            if index + nslots < (index + 1 + ioTLBSegmentSize - 1) & ~(ioTLBSegmentSize - 1) {
                count = slots[index + nslots].list
            }
            var i = index + nslots - 1
            while i >= index {
                count += 1
                slots[i] = SwiotlbSlot(origAddr: invalidPhysicalAddress, allocSize: 0, list: count, padSlots: 0)
                i -= 1
            }
            i = index - 1
            while i >= 0 && Self.segmentOffset(i) != ioTLBSegmentSize - 1 && slots[i].list != 0 {
                count += 1
                slots[i].list = count
                i -= 1
            }
            used -= nslots
        }
    }

    /// Whether `tlbAddr` is inside a live mapping (its slot has an original address).
    func isMapped(tlbAddr: UInt64, poolStart: UInt64) -> Bool {
        let index = Int((tlbAddr &- poolStart) >> UInt64(ioTLBShift))
        return lock.withLock { index < nslabs && slots[index].origAddr != invalidPhysicalAddress }
    }
}

/// Kernel: dma_get_seg_boundary.
@inline(__always)
func dmaSegmentBoundary(_ dev: UnsafeMutablePointer<Device>) -> UInt {
    if let p = dev.pointee.dma_parms, p.pointee.segment_boundary_mask != 0 { return p.pointee.segment_boundary_mask }
    return UInt.max
}

/// Kernel: dma_get_min_align_mask.
@inline(__always)
func dmaMinAlignMask(_ dev: UnsafeMutablePointer<Device>) -> UInt32 {
    dev.pointee.dma_parms?.pointee.min_align_mask ?? 0
}

public enum Swiotlb {
    /// swiotlb:swiotlb_bounced (include/trace/events/swiotlb.h): the buffer's bus address as phys_to_dma
    /// gives it (the physical address behind an IOMMU, as dma-iommu passes it).
    @inline(never)
    static func traceBounced(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int, force: Bool) {
        let busAddress = dev.pointee.dma_iommu ? phys.rawValue : DMADirect.physToDMA(dev, phys.rawValue)
        Trace.emit(.swiotlbBounced, "dev_name: \(String(cString: dev_name(dev))) dma_mask=\(String(dev.pointee.dma_mask?.pointee ?? 0, radix: 16)) "
                   + "dev_addr=\(String(busAddress, radix: 16)) size=\(size) \(force ? "FORCE" : "NORMAL")")
    }

    /// Kernel: swiotlb_align_offset: the bits of `addr` in the device's min_align_mask that the bounce
    /// address must keep, within the allocation's alignment.
    @inline(__always)
    static func alignOffset(_ dev: UnsafeMutablePointer<Device>, alignMask: UInt32, _ addr: UInt64) -> UInt64 {
        addr & UInt64(dmaMinAlignMask(dev)) & UInt64(alignMask | UInt32(ioTLBSize - 1))
    }

    /// Kernel: swiotlb_tbl_map_single. Takes slots keeping the device's min_align_mask bits of `phys` and
    /// aligned to `allocAlignMask`, and copies the buffer in (always, even for DMA_FROM_DEVICE, so a
    /// partial device write leaves the rest as it was). Nil when it cannot (no pool, too large, full:
    /// logged as the kernel logs it).
    public static func mapSingle(_ dev: UnsafeMutablePointer<Device>, phys: PhysicalAddress, size: Int,
                                 allocAlignMask: UInt32, direction: DMADirection,
                                 attributes: DMAAttributes) -> PhysicalAddress? {
        guard let mem = dev.pointee.dma_io_tlb_mem, mem.pointee.nslabs > 0 else {
            devPrintk(.warning, dev, "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer")
            return nil
        }
        if Trace.enabled(.swiotlbBounced) { traceBounced(dev, phys: phys, size: size, force: mem.pointee.force_bounce) }
        if DMACounters.enabled { DMACounters.add(dev, .bouncedBytes, size) }
        return SwiotlbPool.with(mem) { pool -> PhysicalAddress? in
            let pageMask = UInt32(pool.memory.geometry.size - 1)
            if allocAlignMask > pageMask {
                warnOnce(dev, "Alloc alignment may prevent fulfilling requests with max mapping_size")
            }
            var offset = Int(alignOffset(dev, alignMask: allocAlignMask, phys.rawValue))
            let alignUnit = Int(allocAlignMask) + 1
            let allocSize = (size + offset + alignUnit - 1) & ~(alignUnit - 1)
            let index: Int? = allocSize > ioTLBSegmentSize * ioTLBSize || FaultInjection.shouldFail(.swiotlb)
                ? nil
                : pool.findSlots(dev, poolStart: mem.pointee.defpool.start, origAddr: phys.rawValue,
                                 allocSize: allocSize, alignMask: allocAlignMask)
            guard var index else {
                if !attributes.contains(.noWarn) {
                    devPrintk(.warning, dev, "swiotlb buffer is full (sz: \(allocSize) bytes), total \(pool.nslabs) (slots), "
                              + "used \(pool.lock.withLock { pool.used }) (slots)")
                }
                return nil
            }
            // Kernel: dma_reset_need_sync: bounce buffers are always synced.
            resetNeedSync(dev)
            let padSlots = offset >> ioTLBShift
            offset &= ioTLBSize - 1
            index += padSlots
            pool.lock.withLock {
                pool.slots[index].padSlots = UInt16(padSlots)
                for i in 0..<(SwiotlbPool.slotCount(allocSize) - padSlots) {
                    pool.slots[index + i].origAddr = phys.rawValue &+ UInt64(i << ioTLBShift)
                }
            }
            let tlbAddr = mem.pointee.defpool.start &+ UInt64(index << ioTLBShift) &+ UInt64(offset)
            bounce(dev, pool, mem, tlbAddr: tlbAddr, size: size, toDevice: true)
            return PhysicalAddress(tlbAddr)
        } ?? nil
    }

    /// Kernel: swiotlb_bounce: copy between the original buffer and the bounce buffer (CPU views).
    static func bounce(_ dev: UnsafeMutablePointer<Device>, _ pool: SwiotlbPool, _ mem: UnsafeMutablePointer<io_tlb_mem>,
                       tlbAddr: UInt64, size: Int, toDevice: Bool) {
        let start = mem.pointee.defpool.start
        let index = Int((tlbAddr &- start) >> UInt64(ioTLBShift))
        var (orig, allocSize) = pool.lock.withLock { (pool.slots[index].origAddr, pool.slots[index].allocSize) }
        guard orig != invalidPhysicalAddress else { return }
        let tlbOffset = Int(tlbAddr & UInt64(ioTLBSize - 1)) - Int(alignOffset(dev, alignMask: 0, orig))
        orig = UInt64(bitPattern: Int64(bitPattern: orig) &+ Int64(tlbOffset))
        allocSize -= tlbOffset
        var n = size
        if n > allocSize {
            warnOnce(dev, "Buffer overflow detected. Allocation size: \(allocSize). Mapping size: \(size).")
            n = allocSize
        }
        guard n > 0, let vaddr = mem.pointee.defpool.vaddr,
              let o = pool.memory.physical.virtualAddress(of: PhysicalAddress(orig)) else { return }
        let b = vaddr + Int(tlbAddr &- start)
        if toDevice { memcpy(b, o, n) } else { memcpy(o, b, n) }
    }

    /// Kernel: swiotlb_tbl_unmap_single: copy back (FROM_DEVICE, BIDIRECTIONAL unless SKIP_CPU_SYNC) and
    /// release the slots. Does nothing for an address that is no bounce buffer; an address in the pool that
    /// no mapping holds is a WARN record.
    public static func unmapSingle(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                   direction: DMADirection, attributes: DMAAttributes) {
        guard let mem = dev.pointee.dma_io_tlb_mem, isBounceBuffer(dev, tlbAddress) else { return }
        SwiotlbPool.with(mem) { pool in
            guard pool.isMapped(tlbAddr: tlbAddress.rawValue, poolStart: mem.pointee.defpool.start) else {
                Kernel.warn("\(devName(dev)): swiotlb: unmap of \(tlbAddress), which no bounce mapping holds")
                return
            }
            if !attributes.contains(.skipCPUSync) && direction.deviceWrites {
                bounce(dev, pool, mem, tlbAddr: tlbAddress.rawValue, size: size, toDevice: false)
            }
            pool.releaseSlots(dev, tlbAddr: tlbAddress.rawValue, poolStart: mem.pointee.defpool.start)
        }
    }

    /// Kernel: swiotlb_sync_single_for_device (original -> bounce for TO_DEVICE, BIDIRECTIONAL). Does
    /// nothing for an address that is no bounce buffer.
    public static func syncSingleForDevice(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                           direction: DMADirection) {
        guard let mem = dev.pointee.dma_io_tlb_mem, isBounceBuffer(dev, tlbAddress), direction.deviceReads else { return }
        SwiotlbPool.with(mem) { bounce(dev, $0, mem, tlbAddr: tlbAddress.rawValue, size: size, toDevice: true) }
    }

    /// Kernel: swiotlb_sync_single_for_cpu (bounce -> original for FROM_DEVICE, BIDIRECTIONAL). Does nothing
    /// for an address that is no bounce buffer.
    public static func syncSingleForCPU(_ dev: UnsafeMutablePointer<Device>, tlbAddress: PhysicalAddress, size: Int,
                                        direction: DMADirection) {
        guard let mem = dev.pointee.dma_io_tlb_mem, isBounceBuffer(dev, tlbAddress), direction.deviceWrites else { return }
        SwiotlbPool.with(mem) { bounce(dev, $0, mem, tlbAddr: tlbAddress.rawValue, size: size, toDevice: false) }
    }

    /// Kernel: swiotlb_map: bounce for dma-direct, then check the device reaches the bounce buffer and clean
    /// it for a non-coherent device.
    public static func map(_ dev: UnsafeMutablePointer<Device>, _ memory: SimulatedMemory, phys: PhysicalAddress, size: Int,
                    direction: DMADirection, attributes: DMAAttributes) -> DMAAddress {
        guard let tlb = mapSingle(dev, phys: phys, size: size, allocAlignMask: 0, direction: direction,
                                  attributes: attributes) else { return .mappingError }
        let dma = DMAAddress(DMADirect.physToDMA(dev, tlb.rawValue))
        guard DMADirect.isCapable(dev, dma, size: size) else {
            unmapSingle(dev, tlbAddress: tlb, size: size, direction: direction, attributes: attributes.union(.skipCPUSync))
            warnOnce(dev, DMADirect.overflow("swiotlb addr", dev, dma, size))
            return .mappingError
        }
        if !dev.pointee.dma_coherent && !attributes.contains(.skipCPUSync) {
            ArchDMA.syncForDevice(memory, tlb, size: size, direction: direction)
        }
        return dma
    }

    /// Kernel: swiotlb_find_pool(dev, pa) != NULL.
    @inlinable
    public static func isBounceBuffer(_ dev: UnsafeMutablePointer<Device>, _ pa: PhysicalAddress) -> Bool {
        guard let mem = dev.pointee.dma_io_tlb_mem else { return false }
        return pa.rawValue >= mem.pointee.defpool.start && pa.rawValue < mem.pointee.defpool.end
    }

    /// Kernel: is_swiotlb_force_bounce.
    @inlinable
    public static func isForceBounce(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        dev.pointee.dma_io_tlb_mem?.pointee.force_bounce ?? false
    }

    /// Kernel: is_swiotlb_active.
    public static func isActive(_ dev: UnsafeMutablePointer<Device>) -> Bool {
        (dev.pointee.dma_io_tlb_mem?.pointee.nslabs ?? 0) > 0
    }

    /// Kernel: swiotlb_max_mapping_size.
    public static func maxMappingSize(_ dev: UnsafeMutablePointer<Device>) -> Int {
        let minAlign = Int(dmaMinAlignMask(dev))
        let padding = minAlign == 0 ? 0 : (minAlign + ioTLBSize - 1) / ioTLBSize * ioTLBSize
        return ioTLBSize * ioTLBSegmentSize - padding
    }

    /// Kernel: swiotlb_print_info.
    public static func printInfo(_ mem: UnsafeMutablePointer<io_tlb_mem>) {
        if mem.pointee.nslabs > 0 { SwiotlbPool.printInfo(mem) }
    }

    /// Slots in use in a pool (the kernel's mem_used()).
    public static func usedSlots(_ mem: UnsafeMutablePointer<io_tlb_mem>) -> Int {
        SwiotlbPool.with(mem) { p in p.lock.withLock { p.used } } ?? 0
    }
}

/// Kernel: dma_reset_need_sync: a device that bounced needs its syncs from now on. As in the kernel, the flag (a
/// bitfield of struct device) is written only while it is set, so once per device and boot rather than at every
/// bounce; that one write can race with threads reading the device, harmlessly (a thread only needs the syncs of
/// a mapping it bounced itself, and it cleared the flag before that or saw it cleared).
@inline(never)
func resetNeedSync(_ dev: UnsafeMutablePointer<Device>) {
    if dev.pointee.dma_skip_sync { dev.pointee.dma_skip_sync = false }
}

/// `%llx` of a mask.
func hexMask(_ v: UInt64) -> String { String(v, radix: 16) }

/// The device's name, for messages.
func devName(_ dev: UnsafeMutablePointer<Device>) -> String { String(cString: dev_name(dev)) }

/// dev_WARN_ONCE: a WARN record with the "driver device: " prefix, once per boot for each message text.
func warnOnce(_ dev: UnsafeMutablePointer<Device>, _ message: String, file: StaticString = #fileID, line: Int = #line,
              function: StaticString = #function) {
    if WarnOnce.fire("\(file):\(line)") {
        Kernel.warn("\(String(cString: dev_driver_string(dev))) \(devName(dev)): \(message)", file: file, line: line,
                    function: function)
    }
}

/// The sites that already warned in this boot (WARN_ONCE fires once per swiommu_init(), as per boot: the
/// DMA layer's boot hook empties the set).
enum WarnOnce {
    /// Guards `sites` (taken only where a warning condition holds: never on a path that runs normally).
    static let lock = Lock()
    nonisolated(unsafe) static var sites: Set<String> = []

    static func fire(_ key: String) -> Bool { lock.withLock { sites.insert(key).inserted } }

    /// A new boot: every site may fire again.
    static func reset() { lock.withLock { sites = [] } }
}

// MARK: The pool as text (swiommu_dump_swiotlb)

extension Swiotlb {
    /// The default pool: where it is, its slots, how many are used, the segments with a mapping, and the
    /// longest run of free slots that one mapping could take (a mapping never crosses a segment).
    public static func dump(_ mem: UnsafeMutablePointer<io_tlb_mem>) -> String {
        guard mem.pointee.nslabs > 0 else {
            return "swiotlb: no pool" + (mem.pointee.force_bounce ? " (bouncing forced)" : "") + "\n"
        }
        return SwiotlbPool.with(mem) { pool -> String in
            pool.lock.withLock {
                var busySegments = 0
                var longest = 0
                var run = 0
                var segmentBusy = false
                for i in 0..<pool.nslabs {
                    if i % ioTLBSegmentSize == 0 {
                        if segmentBusy { busySegments += 1 }
                        segmentBusy = false
                        run = 0
                    }
                    if pool.slots[i].allocSize != 0 || pool.slots[i].origAddr != invalidPhysicalAddress {
                        segmentBusy = true
                        run = 0
                    } else {
                        run += 1
                        longest = max(longest, run)
                    }
                }
                if segmentBusy { busySegments += 1 }
                let start = mem.pointee.defpool.start
                return "swiotlb: \(Kernel.hex(start))-\(Kernel.hex(start &+ UInt64(pool.nslabs * ioTLBSize) &- 1)), "
                    + "\(pool.nslabs) slots of \(ioTLBSize) bytes, \(pool.used) used (\(pool.used * ioTLBSize) bytes), "
                    + "\(busySegments) of \(pool.nslabs / ioTLBSegmentSize) segments in use, longest free run "
                    + "\(longest) slots" + (mem.pointee.force_bounce ? ", bouncing forced" : "") + "\n"
            }
        } ?? "swiotlb: no pool\n"
    }
}
