// dma-iommu's cookie on a fake driver: iommu_dma_init_domain's checks, the IOVA limit, and the flush queue's
// ring (full at 255, flush counters, one ring per CPU, the 10 ms timer on the virtual clock).
import Glibc
import Synchronization
import Testing
import CKernel
import SwiommuBase
@testable import SwiommuIOMMU
import SwiommuIOVA
import SwiommuMemory
import SwiommuPlatform
@testable import SwiommuDMA

/// flush_iotlb_all calls the fake driver saw (atomic: a test flushes from a second thread).
private let flushCount = Atomic<Int>(0)
private var flushes: Int {
    get { flushCount.load(ordering: .relaxed) }
    set { flushCount.store(newValue, ordering: .relaxed) }
}
/// Set to 1: the next flush_iotlb_all stays in the driver (holding = 1) until a test sets holding to 0.
private let holdNextFlush = Atomic<Int>(0)
private let holding = Atomic<Int>(0)

/// A fake driver: a domain with 4 KiB pages and a 32-bit aperture, a master whose instance advertises
/// IOMMU_CAP_DEFERRED_FLUSH, and a flush_iotlb_all that counts.
private final class FakeDriver {
    let memory: SimulatedMemory
    let domain = UnsafeMutablePointer<IOMMUDomain>.allocate(capacity: 1)
    let domainOps = UnsafeMutablePointer<iommu_domain_ops>.allocate(capacity: 1)
    let ops = UnsafeMutablePointer<IOMMUOps>.allocate(capacity: 1)
    let instance = UnsafeMutablePointer<IOMMUDevice>.allocate(capacity: 1)
    let devIOMMU = UnsafeMutablePointer<dev_iommu>.allocate(capacity: 1)
    let dev = UnsafeMutablePointer<Device>.allocate(capacity: 1)
    let ranges = UnsafeMutablePointer<bus_dma_region>.allocate(capacity: 2)

    init(type: UInt32 = IOMMU_DOMAIN_DMA_FQ_VALUE, apertureStart: UInt64 = 0) throws {
        memory = try SimulatedMemory(layout: [RAMBankLayout(start: PhysicalAddress(0x8000_0000), size: 8 << 20)],
                                     geometry: .k4)
        domainOps.initialize(to: iommu_domain_ops())
        domainOps.pointee.flush_iotlb_all = { _ in
            if holdNextFlush.compareExchange(expected: 1, desired: 0, ordering: .relaxed).exchanged {
                holding.store(1, ordering: .releasing)
                while holding.load(ordering: .acquiring) == 1 { sched_yield() }
            }
            flushCount.add(1, ordering: .relaxed)
        }
        domain.initialize(to: IOMMUDomain())
        domain.pointee.type = type
        domain.pointee.ops = UnsafePointer(domainOps)
        domain.pointee.pgsize_bitmap = 0x1000 | 0x20_0000
        domain.pointee.geometry.aperture_start = apertureStart
        domain.pointee.geometry.aperture_end = 0xffff_ffff
        domain.pointee.geometry.force_aperture = true
        ops.initialize(to: IOMMUOps())
        ops.pointee.capable = { _, cap in cap == IOMMU_CAP_DEFERRED_FLUSH }
        instance.initialize(to: IOMMUDevice())
        instance.pointee.ops = UnsafePointer(ops)
        devIOMMU.initialize(to: dev_iommu())
        devIOMMU.pointee.iommu_dev = instance
        dev.initialize(to: Device())
        dev.pointee.iommu = devIOMMU
        ranges.initialize(repeating: bus_dma_region(), count: 2)
        flushes = 0
    }

    deinit {
        DomainState.drop(domain)
        for p in [UnsafeMutableRawPointer(domain), UnsafeMutableRawPointer(domainOps), UnsafeMutableRawPointer(ops),
                  UnsafeMutableRawPointer(instance), UnsafeMutableRawPointer(devIOMMU), UnsafeMutableRawPointer(dev),
                  UnsafeMutableRawPointer(ranges)] { p.deallocate() }
    }

    func cookie() -> IOMMUDMACookie { IOMMUDMACookie.get(domain, memory: memory) }

    /// Unmap as __iommu_dma_unmap does in a lazy domain: the IOVA goes to the flush queue.
    func queueUnmap(_ c: IOMMUDMACookie, _ iova: UInt64) {
        withUnsafeTemporaryAllocation(of: iommu_iotlb_gather.self, capacity: 1) { buf in
            let g = buf.baseAddress!
            iommu_iotlb_gather_init(g)
            g.pointee.queued = c.fq != nil
            c.freeIOVA(iova, size: 0x1000, gather: g)
        }
    }
}

@Suite(.serialized) struct IOMMUDMACookieTests {
    @Test func theGranuleIsTheSmallestPageAndIOVA0IsNeverHandedOut() throws {
        let f = try FakeDriver(type: IOMMU_DOMAIN_DMA_VALUE)
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        #expect(c.granule == 0x1000 && c.shift == 12 && c.mask == 0xfff && c.startPfn == 1)
        #expect(c.fq == nil)
        // A 13-bit limit leaves one granule: pfn 0 is never an IOVA.
        #expect(c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0x1fff) == 0x1000)
        #expect(c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0x1fff) == 0)
    }

    @Test func theApertureAndTheBusLimitBoundTheIOVAs() throws {
        let f = try FakeDriver(type: IOMMU_DOMAIN_DMA_VALUE, apertureStart: 0x10_0000)
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        #expect(c.startPfn == 0x100)
        // A 64-bit mask: the 32-bit aperture is the limit.
        #expect(c.allocIOVA(f.dev, size: 0x2000, dmaLimit: UInt64.max) == 0xffff_e000)
        f.dev.pointee.bus_dma_limit = 0xff_ffff
        #expect(c.allocIOVA(f.dev, size: 0x2000, dmaLimit: UInt64.max) == 0xff_e000)
        // A second device whose aperture view differs cannot share the initialised domain.
        f.domain.pointee.geometry.aperture_start = 0
        #expect(c.initialise(for: f.dev) == Errno.fault.negated)
        f.domain.pointee.geometry.aperture_start = 0x10_0000
        #expect(c.initialise(for: f.dev) == 0)
    }

    @Test func dmaRangesOutsideTheApertureAreRefused() throws {
        let f = try FakeDriver()
        f.ranges[0] = bus_dma_region(cpu_start: 0x8000_0000, dma_start: 0x1_0000_0000, size: 0x1000_0000)
        f.dev.pointee.dma_range_map = UnsafePointer(f.ranges)
        #expect(f.cookie().initialise(for: f.dev) == Errno.fault.negated)
        f.ranges[0].dma_start = 0xf000_0000   // overlaps the aperture's top
        #expect(f.cookie().initialise(for: f.dev) == 0)
    }

    @Test func withoutDeferredFlushALazyDomainTurnsStrict() throws {
        let f = try FakeDriver()
        f.ops.pointee.capable = { _, _ in false }
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        #expect(c.fq == nil)
        #expect(f.domain.pointee.type == IOMMU_DOMAIN_DMA_VALUE)
    }

    @Test func aFullRingFlushesThenFreesWhatTheFlushCovers() throws {
        let f = try FakeDriver()
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        let q = try #require(c.flushQueue)
        var iovas: [UInt64] = []
        for _ in 0..<256 { iovas.append(c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff)) }
        #expect(iovas.first == 0xffff_f000 && iovas.last == 0xfff0_0000)
        for iova in iovas.prefix(255) { f.queueUnmap(c, iova) }
        #expect(flushes == 0 && q.queued == 255)
        #expect(q.flushStarted.load(ordering: .relaxed) == 0)
        // The 256th finds the ring full: one flush, the 255 freed, then it is queued with counter 1.
        f.queueUnmap(c, iovas[255])
        #expect(flushes == 1 && q.queued == 1)
        #expect(q.flushStarted.load(ordering: .relaxed) == 1 && q.flushFinished.load(ordering: .relaxed) == 1)
        // Freed IOVAs are reused (the last freed first); the queued one is not.
        #expect(c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff) == iovas[254])
    }

    /// Another thread's flush started before this thread's ring filled and has not finished: the finish count
    /// does not cover the ring's entries after one flush of this thread's own, which frees nothing. The thread
    /// flushes again until the ring has room, rather than overwriting it (which lost its 255 IOVAs).
    @Test func aFullRingBehindAnUnfinishedFlushIsNeverOverwritten() throws {
        let f = try FakeDriver()
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        let q = try #require(c.flushQueue)
        let iovad = try #require(c.iovad)
        final class Box: @unchecked Sendable { let q: IOMMUDMAFlushQueue; init(_ q: IOMMUDMAFlushQueue) { self.q = q } }
        holdNextFlush.store(1, ordering: .relaxed)
        var t = pthread_t()
        pthread_create(&t, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().q.flushIOTLB()
            return nil
        }, Unmanaged.passRetained(Box(q)).toOpaque())
        while holding.load(ordering: .acquiring) == 0 { sched_yield() }
        // Its flush has started: the 255 entries queued now need a flush that starts after them to finish.
        var iovas: [UInt64] = []
        for _ in 0..<256 { iovas.append(c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff)) }
        for iova in iovas { f.queueUnmap(c, iova) }
        #expect(q.queued == 1)
        #expect(q.flushStarted.load(ordering: .relaxed) == 3 && q.flushFinished.load(ordering: .relaxed) == 2)
        holding.store(0, ordering: .releasing)
        pthread_join(t, nil)
        IOVAClock.advance(by: q.timeout)
        #expect(q.queued == 0)
        let s = iovad._withUnsafeGuaranteedRef { $0.statistics }
        #expect(s.allocations == s.cached)
    }

    @Test func everyCPUHasItsRingAndTheTimerDrainsThemAll() throws {
        let f = try FakeDriver()
        let c = f.cookie()
        #expect(c.initialise(for: f.dev) == 0)
        let q = try #require(c.flushQueue)
        // CPU numbers no other thread of the test process takes (they take the lowest free ones).
        for cpu in [200, 201, 202] {
            #expect(ThreadCPU.set(cpu) == nil)
            for _ in 0..<200 { f.queueUnmap(c, c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff)) }
        }
        #expect(ThreadCPU.set(-1) == nil)
        #expect(flushes == 0 && q.queued == 600)
        IOVAClock.advance(by: q.timeout - 1)
        #expect(flushes == 0)
        IOVAClock.advance(by: 1)
        #expect(flushes == 1 && q.queued == 0)
        // Disarmed until the next unmap.
        IOVAClock.advance(by: 1000)
        #expect(flushes == 1)
        f.queueUnmap(c, c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff))
        IOVAClock.advance(by: q.timeout)
        #expect(flushes == 2 && q.queued == 0)
    }

    @Test func theCookieGoesWithItsDomain() throws {
        let f = try FakeDriver()
        weak var gone: IOMMUDMACookie?
        do {
            let c = f.cookie()
            #expect(c.initialise(for: f.dev) == 0)
            f.queueUnmap(c, c.allocIOVA(f.dev, size: 0x1000, dmaLimit: 0xffff_ffff))
            gone = c
        }
        #expect(gone != nil)
        DomainState.drop(f.domain)
        #expect(gone == nil)
        // Its timer went with it: advancing the clock runs nothing of it.
        IOVAClock.advance(by: 100)
        #expect(flushes == 0)
    }
}
