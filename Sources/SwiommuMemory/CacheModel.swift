// The CPU cache model for non-coherent DMA. Each page has the CPU's view (the memfd, what C code reads and
// writes) and memory's view (a host copy, made when first needed). Cache maintenance moves whole lines
// between them, as arm64's dcache_clean_poc and dcache_inval_poc do.
//
// The model is pessimistic, as a tool that finds missed maintenance must be: memory holds only what cache
// maintenance (or a device) wrote there. A line the CPU wrote and never cleaned is not in memory, however
// long ago it was written, so a non-coherent device reads zeros there (RAM's contents are unknown).
import Glibc
import CKernel
import SwiommuBase

/// Cache line size of the model. Kernel: L1_CACHE_BYTES on arm64.
public let cacheLineSize = 64

/// Kinds of maintenance. Kernel: arch_sync_dma_for_device cleans, arch_sync_dma_for_cpu invalidates.
public enum CacheMaintenance: Sendable {
    case clean, invalidate, flush
}

extension SimulatedMemory {
    /// Memory's view of a page, created zeroed (nothing was written back yet) when first needed.
    private func memoryView(of p: UnsafeMutablePointer<PageFrame>, create: Bool) -> UnsafeMutableRawPointer? {
        if let v = p.pointee.swiommu.memview { return v }
        guard create else { return nil }
        let v = UnsafeMutableRawPointer.allocate(byteCount: geometry.size, alignment: cacheLineSize)
        memset(v, 0, geometry.size)
        p.pointee.swiommu.memview = v
        memoryViews += 1
        return v
    }

    /// Drop memory's view of freed pages: their contents no longer matter (nor how the CPU mapped them).
    func releaseMemoryView(of head: UnsafeMutablePointer<PageFrame>, pages: Int) {
        for i in 0..<pages {
            let p = head + i
            p.pointee.swiommu.state &= ~PageState.uncached
            if let v = p.pointee.swiommu.memview {
                v.deallocate()
                p.pointee.swiommu.memview = nil
                memoryViews -= 1
            }
        }
    }

    /// Visit a physical range page by page: (page, offset in page, length). False if not all RAM.
    private func forEachPage(_ pa: PhysicalAddress, _ size: Int,
                             _ body: (UnsafeMutablePointer<PageFrame>, Int, Int) -> Void) -> Bool {
        guard size >= 0, physical.isRAM(pa, size: UInt64(size)) else { return false }
        var addr = pa
        var left = size
        while left > 0 {
            let p = physical.page(containing: addr)!
            let off = Int(addr.rawValue & geometry.offsetMask)
            let n = min(left, geometry.size - off)
            body(p, off, n)
            addr = addr + UInt64(n)
            left -= n
        }
        return true
    }

    /// Clean, invalidate or flush a physical range, widened to whole cache lines. False if not RAM.
    @discardableResult
    public func maintainCache(_ op: CacheMaintenance, _ pa: PhysicalAddress, size: Int) -> Bool {
        // A range past the top of the address space (an address nothing mapped, a size from a bad call) is
        // not RAM.
        guard size >= 0 else { return false }
        let (top, overflow) = pa.rawValue.addingReportingOverflow(UInt64(size) + UInt64(cacheLineSize - 1))
        guard !overflow else { return false }
        let start = pa.rawValue & ~UInt64(cacheLineSize - 1)
        let end = top & ~UInt64(cacheLineSize - 1)
        return lock.withLock {
            cacheMaintenance += 1
            return forEachPage(PhysicalAddress(start), Int(end - start)) { p, off, n in
                // An uncached page has no lines in the cache: nothing to move.
                if p.pointee.swiommu.state & PageState.uncached != 0 { return }
                let cpu = physical.virtualAddress(of: p)! + off
                switch op {
                case .clean, .flush:
                    // Lines reach memory; after a flush the CPU's copy equals memory's, so nothing more.
                    let mem = memoryView(of: p, create: true)! + off
                    memcpy(mem, cpu, n)
                case .invalidate:
                    // The CPU drops its lines: it reads memory's view from now on.
                    if let mem = memoryView(of: p, create: false) { memcpy(cpu, mem + off, n) }
                }
            }
        }
    }

    /// Read RAM as a device does. A coherent device snoops the CPU's caches; a non-coherent one sees memory.
    @discardableResult
    public func deviceRead(_ pa: PhysicalAddress, into dst: UnsafeMutableRawPointer, size: Int, coherent: Bool) -> Bool {
        return lock.withLock {
            var done = 0
            return forEachPage(pa, size) { p, off, n in
                let direct = coherent || p.pointee.swiommu.state & PageState.uncached != 0
                let src = direct ? physical.virtualAddress(of: p)! : memoryView(of: p, create: true)!
                memcpy(dst + done, src + off, n)
                done += n
            }
        }
    }

    /// Write RAM as a device does. A non-coherent device's write is not seen by the CPU until it
    /// invalidates the lines; a coherent device's write updates both views.
    @discardableResult
    public func deviceWrite(_ pa: PhysicalAddress, from src: UnsafeRawPointer, size: Int, coherent: Bool) -> Bool {
        lock.withLock {
            var done = 0
            return forEachPage(pa, size) { p, off, n in
                if coherent || p.pointee.swiommu.state & PageState.uncached != 0 {
                    memcpy(physical.virtualAddress(of: p)! + off, src + done, n)
                    if let mem = memoryView(of: p, create: false) { memcpy(mem + off, src + done, n) }
                } else {
                    memcpy(memoryView(of: p, create: true)! + off, src + done, n)
                }
                done += n
            }
        }
    }

    /// Mark whole pages as mapped uncached by the CPU (a coherent DMA allocation for a non-coherent device,
    /// as after arch_dma_prep_coherent and a pgprot_dmacoherent remap), or cached again. The CPU's view of
    /// an uncached page is memory itself: device reads and writes see it directly, maintenance skips it.
    /// False if the range is not RAM.
    @discardableResult
    public func setUncached(_ pa: PhysicalAddress, size: Int, _ uncached: Bool) -> Bool {
        lock.withLock {
            forEachPage(pa, size) { p, _, _ in
                if uncached {
                    // What memory held is what the uncached mapping shows; the flush before made them equal.
                    if let v = memoryView(of: p, create: false) {
                        v.deallocate()
                        p.pointee.swiommu.memview = nil
                        memoryViews -= 1
                    }
                    p.pointee.swiommu.state |= PageState.uncached
                } else {
                    p.pointee.swiommu.state &= ~PageState.uncached
                }
            }
        }
    }

    /// Whether the CPU maps the page at `pa` uncached.
    public func isUncached(_ pa: PhysicalAddress) -> Bool {
        lock.withLock { physical.page(containing: pa).map { $0.pointee.swiommu.state & PageState.uncached != 0 } ?? false }
    }

    /// Cache maintenance operations since boot.
    public var cacheMaintenanceCount: UInt64 { lock.withLock { cacheMaintenance } }
}
