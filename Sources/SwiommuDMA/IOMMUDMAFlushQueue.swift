// Lazy IOTLB invalidation (IOMMU_DOMAIN_DMA_FQ): unmapped IOVAs wait in a ring, with the page-table pages
// the unmap freed, until a flush of the whole IOTLB makes them safe to reuse. A ring per CPU (per thread
// here, by the CPU number the IOVA rcaches use) of 256 entries; a full ring flushes at once; a 10 ms timer on
// the virtual clock (swiommu_iova_clock_advance) flushes and drains every ring. Until then the IOTLBs of the
// built-in models keep the old translations: device DMA in that window still reaches the old pages.
// Kernel: struct iova_fq, queue_iova, fq_ring_free_locked, fq_flush_iotlb, fq_flush_timeout,
// iommu_dma_init_fq, iommu_dma_free_fq (drivers/iommu/dma-iommu.c).
import Glibc
import CKernel
import CSwiommuGlue
import Synchronization
import SwiommuBase
import SwiommuIOMMU
import SwiommuIOVA
import SwiommuMemory

/// Kernel: IOVA_DEFAULT_FQ_SIZE, IOVA_DEFAULT_FQ_TIMEOUT (ms).
let iovaDefaultFQSize = 256
let iovaDefaultFQTimeout: UInt64 = 10
/// Kernel: IOVA_SINGLE_FQ_SIZE, IOVA_SINGLE_FQ_TIMEOUT: one big queue where IOTLB flushes are shadowed.
let iovaSingleFQSize = 32768
let iovaSingleFQTimeout: UInt64 = 1000

/// One queued IOVA range. Kernel: struct iova_fq_entry.
struct FQEntry {
    var pfn: UInt64
    var pages: UInt64
    /// The flush-start count when queued: safe to free once that many flushes have finished.
    var counter: UInt64
    /// Page-table pages the unmap freed (linked through page->lru, first to last), or nil.
    var freeFirst: UnsafeMutablePointer<list_head>?
    var freeLast: UnsafeMutablePointer<list_head>?
}

/// One CPU's ring. Kernel: struct iova_fq.
final class FQRing: @unchecked Sendable {
    /// Kernel: fq->lock (a spinlock).
    private let spin = Atomic<Int>(0)
    var head: Int = 0
    var tail: Int = 0
    let modMask: Int
    let entries: UnsafeMutablePointer<FQEntry>

    init(size: Int) {
        modMask = size - 1
        entries = .allocate(capacity: size)
        entries.initialize(repeating: FQEntry(pfn: 0, pages: 0, counter: 0, freeFirst: nil, freeLast: nil), count: size)
    }

    deinit { entries.deallocate() }

    /// Also the kernel's smp_mb() before taking it in queue_iova: a locked read-modify-write that orders the
    /// driver's page-table update before the entry becomes visible to a flush on another thread.
    @inline(__always) func lock() {
        while !spin.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged { sched_yield() }
    }

    @inline(__always) func unlock() { spin.store(0, ordering: .releasing) }

    /// Kernel: fq_full.
    @inline(__always) var isFull: Bool { (tail &+ 1) & modMask == head }

    /// Entries queued now.
    var count: Int { (tail &- head) & modMask }
}

final class IOMMUDMAFlushQueue: @unchecked Sendable {
    let domain: UnsafeMutablePointer<IOMMUDomain>
    let iovad: Unmanaged<IOVADomain>
    let memory: SimulatedMemory
    /// Kernel: options.qt == IOMMU_DMA_OPTS_SINGLE_QUEUE.
    let single: Bool
    let size: Int
    let timeout: UInt64
    /// Rings by CPU number (retained references); the last one serves threads without a number (and the single
    /// queue). Made under `ringLock` and published with a release store; read without it (acquire): `ring(_:)`.
    private let rings: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let ringCount = ThreadCPU.maxCPUs + 1
    private let ringLock = Lock()
    /// Kernel: fq_flush_start_cnt, fq_flush_finish_cnt, fq_timer_on, fq_timer.
    let flushStarted = Atomic<UInt64>(0)
    let flushFinished = Atomic<UInt64>(0)
    private let timerOn = Atomic<Int>(0)
    private var timer: IOVAClock.Timer!

    /// Kernel: iommu_dma_init_fq (both queue types). Nil when the rings cannot be had.
    init?(cookie: IOMMUDMACookie, single: Bool) {
        guard let d = cookie.iovad else { return nil }
        domain = cookie.domain
        iovad = d
        memory = cookie.memory
        self.single = single
        size = single ? iovaSingleFQSize : iovaDefaultFQSize
        timeout = single ? iovaSingleFQTimeout : iovaDefaultFQTimeout
        rings = .allocate(capacity: ThreadCPU.maxCPUs + 1)
        rings.initialize(repeating: nil, count: ThreadCPU.maxCPUs + 1)
        timer = IOVAClock.Timer { [unowned(unsafe) self] in self.timeoutFired() }
    }

    /// Kernel: iommu_dma_free_fq: stop the timer, free the queued page-table pages (the IOVAs go with the
    /// IOVA domain), free the rings.
    func free() {
        timer.cancel()
        for i in 0..<ringCount {
            guard let r = ring(i) else { continue }
            r._withUnsafeGuaranteedRef { ring in
                var idx = ring.head
                while idx != ring.tail {
                    putPages(ring.entries + idx)
                    idx = (idx &+ 1) & ring.modMask
                }
            }
            r.release()
            swiommu_glue_atomic_store_release_ptr(rings + i, nil)
        }
        rings.deallocate()
    }

    /// The calling thread's ring, made at its first use. Kernel: raw_cpu_ptr(cookie->percpu_fq).
    @inline(__always)
    private func currentRing() -> Unmanaged<FQRing> {
        var cpu = single ? ThreadCPU.maxCPUs : ThreadCPU.current()
        if cpu < 0 { cpu = ThreadCPU.maxCPUs }
        if let r = ring(cpu) { return r }
        return makeRing(cpu)
    }

    /// The ring of CPU number `i` (`ringCount - 1`: the shared one), if made.
    @inline(__always)
    private func ring(_ i: Int) -> Unmanaged<FQRing>? {
        swiommu_glue_atomic_load_acquire_ptr(rings + i).map { Unmanaged<FQRing>.fromOpaque($0) }
    }

    @inline(never)
    private func makeRing(_ cpu: Int) -> Unmanaged<FQRing> {
        ringLock.withLock {
            if let r = ring(cpu) { return r }
            let r = Unmanaged.passRetained(FQRing(size: size))
            swiommu_glue_atomic_store_release_ptr(rings + cpu, r.toOpaque())
            return r
        }
    }

    // MARK: Kernel: queue_iova

    /// Queue an unmapped range (and the gather's freed table pages) until the next IOTLB flush.
    @inline(__always)
    func queue(pfn: UInt64, pages: UInt64, freelist gather: UnsafeMutablePointer<iommu_iotlb_gather>) {
        // The ring lock's read-modify-write is the kernel's smp_mb() here (see FQRing.lock).
        currentRing()._withUnsafeGuaranteedRef { ring in
            ring.lock()
            // First remove all entries from the flush queue that have already been flushed out on another CPU.
            freeLocked(ring)
            // The kernel flushes once here. But a flush another thread started before these entries were
            // queued, and has not finished, keeps the finish count below their counter after this thread's own
            // flush: that frees nothing, and adding to the still full ring would overwrite it (losing every
            // queued IOVA). Each flush of our own raises the count by one, so a few rounds always make room.
            while ring.isFull {
                flushIOTLB()
                freeLocked(ring)
            }
            let idx = ring.tail
            ring.tail = (idx &+ 1) & ring.modMask
            let e = ring.entries + idx
            e.pointee.pfn = pfn
            e.pointee.pages = pages
            e.pointee.counter = flushStarted.load(ordering: .relaxed)
            splice(&gather.pointee.freelist.pages, into: e)
            ring.unlock()
        }
        if timerOn.load(ordering: .relaxed) == 0 && timerOn.exchange(1, ordering: .acquiringAndReleasing) == 0 {
            timer.arm(after: timeout)
        }
    }

    /// Kernel: fq_ring_free_locked: release the entries a finished flush covers, oldest first.
    @inline(__always)
    private func freeLocked(_ ring: FQRing) {
        let finished = flushFinished.load(ordering: .acquiring)
        while ring.head != ring.tail {
            let e = ring.entries + ring.head
            if e.pointee.counter >= finished { break }
            putPages(e)
            iovad._withUnsafeGuaranteedRef { $0.freeFast(pfn: IOVAPFN(e.pointee.pfn), size: e.pointee.pages) }
            ring.head = (ring.head &+ 1) & ring.modMask
        }
    }

    /// Kernel: fq_flush_iotlb.
    func flushIOTLB() {
        flushStarted.add(1, ordering: .sequentiallyConsistent)
        Mapping.flushAll(domain)
        flushFinished.add(1, ordering: .sequentiallyConsistent)
    }

    /// Kernel: fq_flush_timeout: flush, then drain every ring.
    private func timeoutFired() {
        timerOn.store(0, ordering: .sequentiallyConsistent)
        flushIOTLB()
        for i in 0..<ringCount {
            ring(i)?._withUnsafeGuaranteedRef { ring in
                ring.lock()
                freeLocked(ring)
                ring.unlock()
            }
        }
    }

    /// Entries waiting in every ring (for tests).
    var queued: Int {
        var n = 0
        for i in 0..<ringCount {
            ring(i)?._withUnsafeGuaranteedRef { ring in
                ring.lock()
                n += ring.count
                ring.unlock()
            }
        }
        return n
    }

    // MARK: Page-table pages. Kernel: iommu_pages_list_splice, iommu_put_pages_list.

    /// Move the pages of a gather's freelist to the entry (list_splice; the gather is discarded after).
    @inline(__always)
    private func splice(_ head: UnsafeMutablePointer<list_head>, into e: UnsafeMutablePointer<FQEntry>) {
        guard let first = head.pointee.next, first != head else {
            e.pointee.freeFirst = nil
            e.pointee.freeLast = nil
            return
        }
        e.pointee.freeFirst = first
        e.pointee.freeLast = head.pointee.prev
    }

    /// Free an entry's page-table pages (order-0 pages, linked through their lru field).
    @inline(__always)
    private func putPages(_ e: UnsafeMutablePointer<FQEntry>) {
        guard var node = e.pointee.freeFirst, let last = e.pointee.freeLast else { return }
        e.pointee.freeFirst = nil
        e.pointee.freeLast = nil
        let lruOffset = MemoryLayout<PageFrame>.offset(of: \PageFrame.lru)!
        while true {
            let next = node.pointee.next
            let page = (UnsafeMutableRawPointer(node) - lruOffset).assumingMemoryBound(to: PageFrame.self)
            page.pointee.lru = list_head()
            memory.freePages(page, order: 0)
            if node == last { break }
            guard let n = next else { break }
            node = n
        }
    }
}
