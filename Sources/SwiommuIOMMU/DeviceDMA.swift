// The device's own DMA (swiommu_dma_read/write): the test stands in for the hardware. A channel goes through
// its IOMMU's current domain, or straight to the bus (a bypass channel, a device without an IOMMU, or one
// whose IOMMU has no driver, as on a kernel that carries on without it). Memory is read and written as the
// device sees it: through the CPU cache model for a non-coherent master.
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

public enum DeviceDMA {
    public enum Direction { case read, write }

    /// Move `size` bytes between the device and `buffer` at bus address `addr` on `channel`.
    /// 0, -EINVAL for a bad channel, or -EFAULT after a fault was reported.
    public static func transfer(_ dev: UnsafeMutablePointer<Device>, channel: Int, addr: UInt64,
                                buffer: UnsafeMutableRawPointer, size: Int, direction: Direction,
                                machine: Machine) -> Int32 {
        let state = DeviceState.of(dev)
        guard channel >= 0, channel < state.channels.count else {
            devPrintk(.error, dev, "swiommu DMA: no channel \(channel) (the device has \(state.channels.count))")
            return Errno.invalid.negated
        }
        guard size > 0 else { return 0 }
        let translated = state.channels[channel].iommu != nil && state.iommuLink == .attached
        var done = 0
        while done < size {
            let bus = addr &+ UInt64(done)
            // Chunks never cross a 4 KiB boundary: the smallest page any table maps.
            let chunk = min(size - done, 4096 - Int(bus & 0xfff))
            let phys: UInt64?
            if translated {
                phys = translate(dev, iova: bus, direction: direction, state: state)
            } else {
                phys = directPhys(dev, bus)
                if phys == nil {
                    state.dmaFaults &+= 1
                    devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) is outside the device's dma-ranges")
                }
            }
            guard let pa = phys else { return Errno.fault.negated }
            let ok = switch direction {
            case .read: machine.memory.deviceRead(PhysicalAddress(pa), into: buffer + done, size: chunk,
                                                  coherent: dev.pointee.dma_coherent)
            case .write: machine.memory.deviceWrite(PhysicalAddress(pa), from: buffer + done, size: chunk,
                                                    coherent: dev.pointee.dma_coherent)
            }
            guard ok else {
                state.dmaFaults &+= 1
                devPrintk(.error, dev, "swiommu DMA: bus address \(Kernel.hex(bus)) -> \(Kernel.hex(pa)) is not RAM")
                return Errno.fault.negated
            }
            done += chunk
        }
        return 0
    }

    /// Kernel: dma_to_phys through dma_range_map (identity without one).
    static func directPhys(_ dev: UnsafeMutablePointer<Device>, _ bus: UInt64) -> UInt64? {
        guard var r = dev.pointee.dma_range_map else { return bus }
        while r.pointee.size != 0 {
            if bus >= r.pointee.dma_start && bus - r.pointee.dma_start < r.pointee.size {
                return r.pointee.cpu_start + (bus - r.pointee.dma_start)
            }
            r += 1
        }
        return nil
    }

    /// Through the group's current domain; a miss is a fault reported to the domain's handler.
    static func translate(_ dev: UnsafeMutablePointer<Device>, iova: UInt64, direction: Direction,
                          state: DeviceState) -> UInt64? {
        guard let core = IOMMUCore.current, let g = core.group(of: dev), let d = g.domain else {
            state.dmaFaults &+= 1
            return nil
        }
        if d.pointee.type == IOMMU_DOMAIN_IDENTITY_VALUE { return iova }
        let pa = d.pointee.type == IOMMU_DOMAIN_BLOCKED_VALUE ? 0 : Mapping.iovaToPhys(d, iova)
        if pa != 0 { return pa }
        state.dmaFaults &+= 1
        let flags: Int32 = direction == .write ? 1 : 0   // IOMMU_FAULT_WRITE / IOMMU_FAULT_READ
        let ret = IOMMUCore.reportFault(d, dev: dev, iova: iova, flags: flags)
        if ret != 0 {
            // Nothing handled it: log it as an SMMU driver does for an unhandled context fault.
            devPrintk(.error, dev, "Unhandled context fault: iova=\(Kernel.hex(iova)), \(direction == .write ? "write" : "read")")
        }
        return nil
    }
}
