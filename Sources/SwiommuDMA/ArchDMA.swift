// arm64's cache maintenance for non-coherent DMA, through the CPU cache model. Kernel:
// arch/arm64/mm/dma-mapping.c (arch_sync_dma_for_device, arch_sync_dma_for_cpu, arch_dma_prep_coherent).
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum ArchDMA {
    /// Kernel: arch_sync_dma_for_device: dcache_clean_poc, whatever the direction. False if not RAM.
    @discardableResult
    public static func syncForDevice(_ memory: SimulatedMemory, _ pa: PhysicalAddress, size: Int,
                                     direction: DMADirection) -> Bool {
        memory.maintainCache(.clean, pa, size: size)
    }

    /// Kernel: arch_sync_dma_for_cpu: dcache_inval_poc, except for DMA_TO_DEVICE (nothing to do: the
    /// device only read). False if not RAM.
    @discardableResult
    public static func syncForCPU(_ memory: SimulatedMemory, _ pa: PhysicalAddress, size: Int,
                                  direction: DMADirection) -> Bool {
        if direction == .toDevice { return true }
        return memory.maintainCache(.invalidate, pa, size: size)
    }

    /// Kernel: arch_dma_prep_coherent: dcache_clean_inval_poc before the memory is used uncached.
    @discardableResult
    public static func prepareCoherent(_ memory: SimulatedMemory, _ pa: PhysicalAddress, size: Int) -> Bool {
        memory.maintainCache(.flush, pa, size: size)
    }
}
