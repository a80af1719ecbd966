// Reserved regions through the driver: iommu_get_resv_regions asks the IOMMU driver, which usually calls
// of_iommu_get_resv_regions for the device tree's. Kernel: iommu_get_resv_regions, iommu_put_resv_regions,
// iommu_alloc_resv_region (drivers/iommu/iommu.c), of_iommu_get_resv_regions (of_iommu.c).
import Glibc
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum ResvRegions {
    /// `&region->list` (the first member, as the kernel's list_entry relies on).
    static func listNode(_ r: UnsafeMutablePointer<iommu_resv_region>) -> UnsafeMutablePointer<list_head> {
        UnsafeMutableRawPointer(r).assumingMemoryBound(to: list_head.self)
    }

    /// Kernel: iommu_alloc_resv_region: a kmalloc'd region with an initialised list node.
    public static func allocate(_ memory: SimulatedMemory, start: UInt64, length: Int, prot: Int32,
                                type: iommu_resv_type) -> UnsafeMutablePointer<iommu_resv_region>? {
        guard let raw = memory.kmalloc(size: MemoryLayout<iommu_resv_region>.stride, gfp: [.kernel, .zero], site: nil)
        else { return nil }
        let r = raw.assumingMemoryBound(to: iommu_resv_region.self)
        listInit(listNode(r))
        r.pointee.start = start
        r.pointee.length = length
        r.pointee.prot = prot
        r.pointee.type = type
        return r
    }

    /// The regions of a list, in order (list_for_each_entry: `list` is the region's first member).
    static func regions(in head: UnsafeMutablePointer<list_head>) -> [UnsafeMutablePointer<iommu_resv_region>] {
        var out: [UnsafeMutablePointer<iommu_resv_region>] = []
        var n = head.pointee.next
        while let node = n, node != head {
            n = node.pointee.next
            out.append(UnsafeMutableRawPointer(node).assumingMemoryBound(to: iommu_resv_region.self))
        }
        return out
    }

    /// `body` with a new empty list head (LIST_HEAD), gone afterwards.
    static func withList<R>(_ body: (UnsafeMutablePointer<list_head>) -> R) -> R {
        let head = UnsafeMutablePointer<list_head>.allocate(capacity: 1)
        defer { head.deallocate() }
        listInit(head)
        return body(head)
    }

    /// Kernel: of_iommu_get_resv_regions, from what of_dma_configure recorded for the device.
    public static func fromDeviceTree(_ dev: UnsafeMutablePointer<Device>, into head: UnsafeMutablePointer<list_head>,
                                      memory: SimulatedMemory) {
        for region in DeviceState.of(dev).reservedRegions {
            let type = region.type == .direct ? IOMMU_RESV_DIRECT : IOMMU_RESV_RESERVED
            guard let r = allocate(memory, start: region.start, length: Int(region.length), prot: region.prot, type: type)
            else { return }
            listAddTail(listNode(r), head)
        }
    }

    /// Kernel: iommu_put_resv_regions: each region's free, else kfree.
    public static func put(_ dev: UnsafeMutablePointer<Device>?, _ head: UnsafeMutablePointer<list_head>, memory: SimulatedMemory) {
        for r in regions(in: head) {
            listNode(r).pointee.next = nil
            listNode(r).pointee.prev = nil
            if let f = r.pointee.free { f(dev, r) } else { memory.kfree(UnsafeRawPointer(r)) }
        }
        listInit(head)
    }

    /// Kernel: iommu_insert_resv_region: a copy of `new` (kmalloc'd) into `head`, which stays sorted by start
    /// (then type), and the regions of `new`'s type merged where they overlap or touch. -ENOMEM when the copy
    /// cannot be allocated.
    static func insert(_ new: UnsafeMutablePointer<iommu_resv_region>, into head: UnsafeMutablePointer<list_head>,
                       memory: SimulatedMemory) -> Errno? {
        guard let nr = allocate(memory, start: new.pointee.start, length: new.pointee.length, prot: new.pointee.prot,
                                type: new.pointee.type) else { return .noMemory }
        var regions = regions(in: head)
        let at = regions.firstIndex {
            nr.pointee.start < $0.pointee.start
                || (nr.pointee.start == $0.pointee.start && nr.pointee.type.rawValue <= $0.pointee.type.rawValue)
        } ?? regions.count
        regions.insert(nr, at: at)
        // The kernel's merge: a stack of the regions kept; one of the new type that starts at most one byte
        // past the end of the last kept region of its type grows that region and is freed.
        var stack: [UnsafeMutablePointer<iommu_resv_region>] = []
        for r in regions {
            guard r.pointee.type == new.pointee.type,
                  let top = stack.last(where: { $0.pointee.type == r.pointee.type }) else {
                stack.append(r)
                continue
            }
            let topEnd = top.pointee.start &+ UInt64(top.pointee.length) &- 1
            let end = r.pointee.start &+ UInt64(r.pointee.length) &- 1
            if r.pointee.start > topEnd &+ 1 {
                stack.append(r)
            } else {
                top.pointee.length = Int(truncatingIfNeeded: max(topEnd, end) &- top.pointee.start &+ 1)
                memory.kfree(UnsafeRawPointer(r))
            }
        }
        listInit(head)
        for r in stack { listAddTail(listNode(r), head) }
        return nil
    }

    /// Kernel: iommu_get_group_resv_regions: every device's regions (as its driver reports them) merged into
    /// `head`, until a device without an IOMMU. -ENOMEM when a copy cannot be allocated.
    public static func getGroup(_ devices: [UnsafeMutablePointer<Device>], into head: UnsafeMutablePointer<list_head>,
                                memory: SimulatedMemory) -> Errno? {
        for dev in devices {
            guard dev.pointee.iommu?.pointee.iommu_dev != nil else { break }
            let error = withList { own -> Errno? in
                get(dev, into: own)
                defer { put(dev, own, memory: memory) }
                for r in regions(in: own) {
                    if let e = insert(r, into: head, memory: memory) { return e }
                }
                return nil
            }
            if let error { return error }
        }
        return nil
    }

    /// Kernel: iommu_get_resv_regions: the driver's get_resv_regions, if it has one.
    public static func get(_ dev: UnsafeMutablePointer<Device>, into head: UnsafeMutablePointer<list_head>) {
        dev.pointee.iommu?.pointee.iommu_dev?.pointee.ops?.pointee.get_resv_regions?(dev, head)
    }
}
