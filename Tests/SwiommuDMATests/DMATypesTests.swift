// The DMA layer's value types against the kernel's constants.
import Testing
import CKernel
@testable import SwiommuDMA

@Suite struct DMATypesTests {
    @Test func directionsMatchTheKernelsEnum() {
        #expect(DMADirection(DMA_BIDIRECTIONAL) == .bidirectional)
        #expect(DMADirection(DMA_TO_DEVICE) == .toDevice)
        #expect(DMADirection(DMA_FROM_DEVICE) == .fromDevice)
        #expect(DMADirection(DMA_NONE) == DMADirection.none)
        #expect(DMADirection(dma_data_direction(rawValue: 7)) == nil)
        #expect(DMADirection.toDevice.deviceReads && !DMADirection.toDevice.deviceWrites)
        #expect(DMADirection.fromDevice.deviceWrites && !DMADirection.fromDevice.deviceReads)
    }

    @Test func attributesMatchTheKernelsBits() {
        #expect(DMAAttributes.skipCPUSync.rawValue == 1 << 5)
        #expect(DMAAttributes.noWarn.rawValue == 1 << 8)
        #expect(DMAAttributes.privileged.rawValue == 1 << 9)
        #expect(DMAAddress.mappingError.rawValue == UInt64.max)
    }
}
