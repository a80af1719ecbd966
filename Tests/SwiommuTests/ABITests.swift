// The ABI layer from Swift: errno conversion, NULL and ERR_PTR arguments, calls while the machine is down.
import Testing
import CKernel
@testable import Swiommu
import SwiommuBase
import SwiommuPlatform

@Suite(.serialized) struct ABITests {
    @Test func initReturnsNegativeErrnos() {
        #expect(abiInitPageShift(nil, 13) == -EINVAL)
        #expect(abiInit("/nonexistent.dtb") == -EINVAL)
        #expect(swiommu_log_contains("/nonexistent.dtb: cannot open"))
        #expect(abiInit(nil) == 0)
        #expect(abiInit(nil) == -EBUSY)
        #expect(abiIsUp())
        #expect(abiPageShift() == 12)
        abiExit()
        #expect(!abiIsUp())
        #expect(abiPageShift() == 0)
        abiExit()   // a second exit does nothing
    }

    @Test func callsWhileDownWarnAndFail() {
        swiommu_warn_reset()
        #expect(abiKmalloc(10, 0) == nil)
        #expect(abiAllocPages(0, 0) == nil)
        #expect(swiommu_warn_count() == 2)
        #expect(swiommu_log_contains("kmalloc called while the machine is down"))
        abiKfree(nil)
        #expect(abiFindDevice("isp") == nil)
        var stats = swiommu_mem_stats()
        #expect(abiMemGetStats(&stats) == -ENODEV)
        #expect(abiMemGetStats(nil) == -EINVAL)
        let simple = abiPlatformDeviceRegisterSimple("x", -1, nil, 0)
        #expect(Int(bitPattern: simple) == -Int(ENODEV))
    }

    @Test func errorPointersAreNotDereferenced() {
        #expect(abiInit(nil) == 0)
        defer { abiExit() }
        let bad = UnsafeMutablePointer<device>(bitPattern: -Int(EINVAL))
        abiPutDevice(bad)
        #expect(!abiDeviceIsBound(bad))
        #expect(abiPlatformGetResource(UnsafeMutablePointer(bitPattern: -Int(ENOMEM)), 0x200, 0) == nil)
        #expect(abiPlatformDriverRegister(nil, nil) == -EINVAL)
    }

    @Test func failNthNamesItsPoints() {
        #expect(abiFailNth("kmalloc", 0) == 0)
        #expect(abiFailNth("bogus", 1) == -EINVAL)
        #expect(swiommu_log_contains("unknown fault-injection point 'bogus'"))
        #expect(abiFailNth(nil, 1) == -EINVAL)
    }

    @Test func layoutTableAnswers() {
        #expect(abiLayoutSizeof("page") == MemoryLayout<page>.size)
        #expect(abiLayoutOffsetof("device", "dma_mask") == MemoryLayout<device>.offset(of: \device.dma_mask)!)
        #expect(abiLayoutSizeof("nothing") == -ENOENT)
    }

    @Test func versionIsSet() {
        #expect(String(cString: abiVersion()!) == "0.1.0")
    }
}
