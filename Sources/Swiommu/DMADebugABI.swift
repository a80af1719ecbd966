// swiommu/dma_debug.h and the kernel's debug_dma_dump_mappings(): convert and dispatch to the DMA layer's
// dma-debug (SwiommuDMA.DMADebug).
import Glibc
import CKernel
import SwiommuBase
import SwiommuDMA
import SwiommuPlatform

@c(swiommu_dma_debug_errors)
public func abiDMADebugErrors() -> CUnsignedLong { CUnsignedLong(DMADebug.errorCount) }

@c(swiommu_dma_debug_last)
public func abiDMADebugLast() -> UnsafePointer<CChar>? { DMADebug.lastMessage }

@c(swiommu_dma_debug_reset)
public func abiDMADebugReset() { DMADebug.reset() }

@c(swiommu_dma_debug_record_count)
public func abiDMADebugRecordCount() -> CUnsignedLong { CUnsignedLong(DMADebug.recordCount) }

/// Copy `text` into a fixed C array (a tuple), cut to fit, NUL-terminated.
private func copy<T>(_ text: String, into field: inout T) {
    withUnsafeMutableBytes(of: &field) { buf in
        var n = 0
        for c in text.utf8 {
            if n == buf.count - 1 { break }
            buf[n] = c
            n += 1
        }
        buf[n] = 0
    }
}

@c(swiommu_dma_debug_record)
public func abiDMADebugRecord(_ index: CUnsignedLong, _ record: UnsafeMutablePointer<swiommu_dma_debug_record>?) -> CInt {
    guard let record else { return Errno.invalid.negated }
    guard index <= CUnsignedLong(Int.max), let r = DMADebug.record(Int(index)) else { return Errno.noEntry.negated }
    record.pointee.dev = r.dev
    copy(r.device, into: &record.pointee.device)
    copy(r.driver, into: &record.pointee.driver)
    record.pointee.kind = swiommu_dma_debug_kind(rawValue: r.check.rawValue)
    record.pointee.address = r.address
    record.pointee.size = r.size
    copy(r.message, into: &record.pointee.message)
    return 0
}

@c(swiommu_dma_debug_kind_name)
public func abiDMADebugKindName(_ kind: swiommu_dma_debug_kind) -> UnsafePointer<CChar>? {
    let name: StaticString = DMADebugCheck(rawValue: kind.rawValue)?.name ?? "UNKNOWN"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c(swiommu_dma_debug_enable)
public func abiDMADebugEnable(_ on: Bool) -> CInt { DMADebug.enable(on) }

@c(swiommu_dma_debug_enabled)
public func abiDMADebugEnabled() -> Bool { DMADebug.isEnabled }

@c(swiommu_dma_debug_set_filter)
public func abiDMADebugSetFilter(_ name: UnsafePointer<CChar>?) -> CInt {
    DMADebug.setFilter(name.map { String(cString: $0) } ?? "")
}

@c(swiommu_dma_debug_set_abort)
public func abiDMADebugSetAbort(_ on: Bool) { DMADebug.setAbort(on) }

@c(swiommu_dma_debug_trap_cpu_access)
public func abiDMADebugTrapCPUAccess(_ on: Bool) -> CInt { DMADebug.trapCPUAccess(on) }

@c(swiommu_dma_debug_mappings)
public func abiDMADebugMappings(_ dev: UnsafeMutablePointer<device>?) -> CUnsignedLong {
    if let dev, isNullOrError(dev) { return 0 }
    return CUnsignedLong(DMADebug.mappings(dev))
}

@c(debug_dma_dump_mappings)
public func abiDebugDMADumpMappings(_ dev: UnsafeMutablePointer<device>?) {
    if let dev, isNullOrError(dev) { return }
    DMADebug.dumpMappings(dev)
}
