// Physically contiguous ranges reserved at boot, larger than the page allocator's biggest block (the
// swiotlb pool's memory). Kernel: memblock_alloc_low. Such ranges are no leaks.
import SwiommuBase

extension SimulatedMemory {
    /// The blocks a reservation of `bytes` is made of: one block when it fits, else max-order blocks.
    private func reservationShape(bytes: Int) -> (order: Int, count: Int) {
        let pages = (bytes + geometry.size - 1) >> geometry.shift
        if pages <= 1 << geometry.maxOrder {
            var order = 0
            while 1 << order < pages { order += 1 }
            return (order, 1)
        }
        return (geometry.maxOrder, (pages + (1 << geometry.maxOrder) - 1) >> geometry.maxOrder)
    }

    /// Reserve `bytes` of physically contiguous RAM, below 4 GiB if asked. Nil when no such run is free.
    public func reserveContiguous(bytes: Int, below4G: Bool) -> PhysicalAddress? {
        guard bytes > 0 else { return nil }
        let (order, count) = reservationShape(bytes: bytes)
        let blockBytes = UInt64(geometry.size << order)
        return lock.withLock { () -> PhysicalAddress? in
            var run: [UnsafeMutablePointer<PageFrame>] = []
            var spare: [UnsafeMutablePointer<PageFrame>] = []
            while run.count < count {
                guard let b = buddy.allocate(order: order, below4G: below4G, owner: .memblock) else { break }
                if let last = run.last, physical.physicalAddress(of: b)! - physical.physicalAddress(of: last)! != blockBytes {
                    spare += run
                    run = []
                }
                run.append(b)
            }
            if run.count < count { spare += run }
            for b in spare { try? buddy.free(b, order: order, owner: .memblock) }
            return run.count == count ? physical.physicalAddress(of: run[0]) : nil
        }
    }

    /// Give back what `reserveContiguous` returned for the same `bytes`.
    public func releaseContiguous(_ start: PhysicalAddress, bytes: Int) {
        let (order, count) = reservationShape(bytes: bytes)
        lock.withLock {
            for i in 0..<count {
                guard let head = physical.page(containing: start + UInt64(i * (geometry.size << order))) else { return }
                do {
                    try buddy.free(head, order: order, owner: .memblock)
                    releaseMemoryView(of: head, pages: 1 << order)
                } catch {
                    Kernel.warn("memblock: \(start) + \(bytes) was not reserved")
                    return
                }
            }
        }
    }
}
