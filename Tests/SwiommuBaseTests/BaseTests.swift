// Tests of the base layer: address types, page geometry, errno mapping, fault injection, locks.
import Testing
import CKernel
@testable import SwiommuBase

@Suite struct AddressTests {
    @Test func physicalAddressArithmeticAndFrames() {
        let pa = PhysicalAddress(0x8_8000_1234)
        #expect(pa + 0x10 == PhysicalAddress(0x8_8000_1244))
        #expect(PhysicalAddress(0x2000) - PhysicalAddress(0x1000) == 0x1000)
        #expect(pa.pfn(pageShift: 12) == PFN(0x88_0001))
        #expect(PFN(0x88_0001).address(pageShift: 12) == PhysicalAddress(0x8_8000_1000))
        #expect(pa.description == "0x880001234")
    }

    @Test(arguments: [(12, 10, 4096), (14, 11, 16384), (16, 13, 65536)])
    func pageGeometriesFollowArm64(shift: Int, maxOrder: Int, size: Int) throws {
        let g = try #require(PageGeometry(shift: shift))
        #expect(g.maxOrder == maxOrder)
        #expect(g.size == size)
        #expect(g.offsetMask == UInt64(size - 1))
    }

    @Test(arguments: [0, 11, 13, 15, 21])
    func otherPageShiftsAreRefused(shift: Int) {
        #expect(PageGeometry(shift: shift) == nil)
    }
}

@Suite struct ErrnoTests {
    @Test func errnoValuesAreTheKernels() {
        #expect(Errno.noMemory.negated == -ENOMEM)
        #expect(Errno.invalid.negated == -EINVAL)
        #expect(Errno.busy.negated == -EBUSY)
        #expect(Errno.exists.negated == -EEXIST)
        #expect(Errno.noDevice.negated == -ENODEV)
        #expect(Errno.noDeviceOrAddress.negated == -ENXIO)
        #expect(Errno.notSupported.negated == -EOPNOTSUPP)
        #expect(Errno.range.negated == -ERANGE)
        #expect(Errno.overflow.negated == -EOVERFLOW)
        #expect(Errno.probeDefer.negated == -517)
        #expect(Errno(negated: -22) == .invalid)
        #expect(Errno(negated: -9999) == nil)
    }
}

@Suite(.serialized) struct FaultInjectionTests {
    @Test func nthCallFailsOnceThenDisarms() {
        FaultInjection.reset()
        FaultInjection.failNth(.kmalloc, 3)
        #expect(!FaultInjection.shouldFail(.kmalloc))
        #expect(!FaultInjection.shouldFail(.kmalloc))
        #expect(FaultInjection.shouldFail(.kmalloc))
        #expect(!FaultInjection.shouldFail(.kmalloc))
        #expect(!FaultInjection.shouldFail(.allocPages))
    }

    @Test func zeroDisarms() {
        FaultInjection.failNth(.vmalloc, 1)
        FaultInjection.failNth(.vmalloc, 0)
        #expect(!FaultInjection.shouldFail(.vmalloc))
    }

    @Test func pointsHaveTheirCNames() {
        #expect(FaultPoint(name: "kmalloc") == .kmalloc)
        #expect(FaultPoint(name: "alloc_pages") == .allocPages)
        #expect(FaultPoint(name: "vmalloc") == .vmalloc)
        #expect(FaultPoint(name: "iova") == .iova)
        #expect(FaultPoint(name: "swiotlb") == .swiotlb)
        #expect(FaultPoint(name: "no-such-point") == nil)
    }
}

@Suite(.serialized) struct KernelLogTests {
    @Test func warnIsRecordedAndCounted() {
        swiommu_warn_reset()
        Kernel.warn("something odd: \(42)")
        #expect(swiommu_warn_count() == 1)
        #expect(String(cString: swiommu_warn_last()).hasSuffix("something odd: 42"))
        #expect(swiommu_log_contains("WARNING: at SwiommuBaseTests/BaseTests.swift"))
    }

    @Test func logKeepsMessagesUntilReset() {
        swiommu_log_reset()
        Kernel.log(.info, driver: "drv", device: "fe0a0000.isp", "hello")
        #expect(String(cString: swiommu_log_last()) == "drv fe0a0000.isp: hello")
        #expect(swiommu_log_count() == 1)
        swiommu_log_reset()
        #expect(!swiommu_log_contains("hello"))
    }

    @Test func consoleLevelIsBounded() {
        let old = swiommu_log_set_console_level(3)
        #expect(old >= 0)
        #expect(swiommu_log_set_console_level(9) == -EINVAL)
        #expect(swiommu_log_set_console_level(old) == 3)
    }
}

@Suite struct LockTests {
    @Test func recursiveLockReenters() {
        let lock = RecursiveLock()
        let v = lock.withLock { lock.withLock { 7 } }
        #expect(v == 7)
    }
}

@Suite struct TraceAndFaultTests {
    @Test func traceSpecsSelectEvents() {
        defer { _ = Trace.enable("") }
        #expect(Trace.enable("iommu:map, dma:*") == nil)
        #expect(Trace.enabled(.map) && !Trace.enabled(.unmap))
        #expect(Trace.enabled(.dmaSyncSGForCPU) && !Trace.enabled(.swiotlbBounced))
        #expect(Trace.enable("swiotlb_bounced") == nil)
        #expect(Trace.enabled(.swiotlbBounced) && !Trace.enabled(.map))
        #expect(Trace.enable("iommu:nope") == "iommu:nope")
        #expect(Trace.enabled(.swiotlbBounced), "a bad spec changes nothing")
        #expect(Trace.enable("*") == nil)
        #expect(TraceEvent.allCases.allSatisfy { Trace.enabled($0) })
        #expect(Trace.enable("") == nil)
        #expect(TraceEvent.allCases.allSatisfy { !Trace.enabled($0) })
    }

    @Test func faultAttributesFollowFaultInject() {
        defer { FaultInjection.reset() }
        var a = FaultAttributes()
        a.probability = 100
        a.interval = 3
        a.times = 2
        a.verbose = false
        FaultInjection.set(.vmalloc, a)
        let pattern = (0..<12).map { _ in FaultInjection.shouldFail(.vmalloc) }
        #expect(pattern == [false, false, true, false, false, true, false, false, false, false, false, false])
        #expect(FaultInjection.injected(.vmalloc) == 2)
        // fail-nth goes first, and alone while it counts down.
        FaultInjection.set(.vmalloc, a)
        FaultInjection.failNth(.vmalloc, 2)
        #expect(FaultInjection.shouldFail(.vmalloc) == false)
        #expect(FaultInjection.shouldFail(.vmalloc) == true)
        #expect(FaultPoint(name: "iommu_map") == .iommuMap && FaultPoint.probe.name == "probe")
    }
}

