// swiommu/dma.h: the device's own DMA.
import CKernel
import SwiommuBase
import SwiommuIOMMU
import SwiommuPlatform

private func dma(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ addr: dma_addr_t,
                 _ buffer: UnsafeMutableRawPointer?, _ len: size_t, _ direction: DeviceDMA.Direction,
                 _ caller: StaticString) -> CInt {
    guard let m = machine(caller) else { return Errno.noDevice.negated }
    guard let dev, !isNullOrError(dev), let buffer else {
        Kernel.warn("\(caller): NULL or ERR_PTR device, or NULL buffer")
        return Errno.invalid.negated
    }
    return DeviceDMA.transfer(dev, channel: Int(channel), addr: addr, buffer: buffer, size: len, direction: direction,
                              machine: m)
}

@c(swiommu_dma_write)
public func abiDMAWrite(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ addr: dma_addr_t,
                        _ src: UnsafeRawPointer?, _ len: size_t) -> CInt {
    dma(dev, channel, addr, UnsafeMutableRawPointer(mutating: src), len, .write, "swiommu_dma_write")
}

@c(swiommu_dma_read)
public func abiDMARead(_ dev: UnsafeMutablePointer<device>?, _ channel: CUnsignedInt, _ addr: dma_addr_t,
                       _ dst: UnsafeMutableRawPointer?, _ len: size_t) -> CInt {
    dma(dev, channel, addr, dst, len, .read, "swiommu_dma_read")
}

@c(swiommu_dma_faults)
public func abiDMAFaults(_ dev: UnsafeMutablePointer<device>?) -> CUnsignedLong {
    guard let dev, !isNullOrError(dev), dev.pointee.swiommu != nil else { return 0 }
    return CUnsignedLong(DeviceState.of(dev).dmaFaults)
}
