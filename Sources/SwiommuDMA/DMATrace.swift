// The dma:* trace events with the TP_printk formats of include/trace/events/dma.h (6.17). The hooks call
// these only when the event is on (Trace.enabled: one load).
import CKernel
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

enum DMATrace {
    /// decode_dma_data_direction.
    static func direction(_ d: DMADirection) -> String {
        switch d {
        case .bidirectional: "BIDIRECTIONAL"
        case .toDevice: "TO_DEVICE"
        case .fromDevice: "FROM_DEVICE"
        case .none: "NONE"
        }
    }

    /// decode_dma_attrs: __print_flags with "|".
    static func attributes(_ a: DMAAttributes) -> String {
        let names: [(DMAAttributes, String)] = [
            (.weakOrdering, "WEAK_ORDERING"), (.writeCombine, "WRITE_COMBINE"), (.noKernelMapping, "NO_KERNEL_MAPPING"),
            (.skipCPUSync, "SKIP_CPU_SYNC"), (.forceContiguous, "FORCE_CONTIGUOUS"),
            (.allocSinglePages, "ALLOC_SINGLE_PAGES"), (.noWarn, "NO_WARN"), (.privileged, "PRIVILEGED"),
        ]
        return names.filter { a.contains($0.0) }.map(\.1).joined(separator: "|")
    }

    static func name(_ dev: UnsafeMutablePointer<Device>) -> String { String(cString: dev_name(dev)) }
    static func hex(_ v: UInt64) -> String { String(v, radix: 16) }

    /// __print_array of u64 values: "{0x1000,0x2000}".
    static func array(_ values: [UInt64]) -> String { "{" + values.map { "0x" + hex($0) }.joined(separator: ",") + "}" }

    @inline(never)
    static func map(_ event: TraceEvent, _ dev: UnsafeMutablePointer<Device>, phys: UInt64, address: DMAAddress, size: Int,
                    direction d: DMADirection, attributes a: DMAAttributes) {
        Trace.emit(event, "\(name(dev)) dir=\(direction(d)) dma_addr=\(hex(address.rawValue)) size=\(size) "
                   + "phys_addr=\(hex(phys)) attrs=\(attributes(a))")
    }

    @inline(never)
    static func unmap(_ event: TraceEvent, _ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int,
                      direction d: DMADirection, attributes a: DMAAttributes) {
        Trace.emit(event, "\(name(dev)) dir=\(direction(d)) dma_addr=\(hex(address.rawValue)) size=\(size) attrs=\(attributes(a))")
    }

    /// The mapped entries' DMA addresses and lengths, and every entry's physical address.
    static func lists(_ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32, mapped: Int32,
                      memory: SimulatedMemory?) -> (dma: [UInt64], sizes: [UInt64], phys: [UInt64]) {
        var (dma, sizes, phys): ([UInt64], [UInt64], [UInt64]) = ([], [], [])
        var sg: UnsafeMutablePointer<Scatterlist>? = sgl
        var i: Int32 = 0
        while let s = sg, i < nents {
            if i < mapped {
                dma.append(s.pointee.dma_address)
                sizes.append(UInt64(s.pointee.dma_length))
            }
            phys.append(memory.flatMap { SG.physicalAddress(s, $0)?.rawValue } ?? 0)
            sg = SG.next(s)
            i += 1
        }
        return (dma, sizes, phys)
    }

    @inline(never)
    static func mapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                      mapped: Int32, direction d: DMADirection, attributes a: DMAAttributes) {
        let l = lists(sgl, nents: nents, mapped: mapped, memory: Machine.current?.memory)
        Trace.emit(.dmaMapSG, "\(name(dev)) dir=\(direction(d)) dma_addrs=\(array(l.dma)) sizes=\(array(l.sizes)) "
                   + "phys_addrs=\(array(l.phys)) attrs=\(attributes(a))")
    }

    @inline(never)
    static func unmapSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                        direction d: DMADirection, attributes a: DMAAttributes) {
        let l = lists(sgl, nents: nents, mapped: 0, memory: Machine.current?.memory)
        Trace.emit(.dmaUnmapSG, "\(name(dev)) dir=\(direction(d)) phys_addrs=\(array(l.phys)) attrs=\(attributes(a))")
    }

    @inline(never)
    static func syncSingle(_ dev: UnsafeMutablePointer<Device>, address: DMAAddress, size: Int, direction d: DMADirection,
                           forDevice: Bool) {
        Trace.emit(forDevice ? .dmaSyncSingleForDevice : .dmaSyncSingleForCPU,
                   "\(name(dev)) dir=\(direction(d)) dma_addr=\(hex(address.rawValue)) size=\(size)")
    }

    @inline(never)
    static func syncSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                       direction d: DMADirection, forDevice: Bool) {
        let l = lists(sgl, nents: nents, mapped: nents, memory: nil)
        Trace.emit(forDevice ? .dmaSyncSGForDevice : .dmaSyncSGForCPU,
                   "\(name(dev)) dir=\(direction(d)) dma_addrs=\(array(l.dma)) sizes=\(array(l.sizes))")
    }

    @inline(never)
    static func alloc(_ dev: UnsafeMutablePointer<Device>, cpuAddress: UnsafeMutableRawPointer?, handle: DMAAddress, size: Int,
                      attributes a: DMAAttributes) {
        let virt = cpuAddress.map { "0x" + hex(UInt64(UInt(bitPattern: $0))) } ?? "0x0"
        Trace.emit(.dmaAlloc, "\(name(dev)) dir=BIDIRECTIONAL dma_addr=\(hex(handle.rawValue)) size=\(size) virt_addr=\(virt) "
                   + "flags=GFP_KERNEL attrs=\(attributes(a))")
    }

    @inline(never)
    static func free(_ dev: UnsafeMutablePointer<Device>, cpuAddress: UnsafeMutableRawPointer?, handle: DMAAddress, size: Int) {
        let virt = cpuAddress.map { "0x" + hex(UInt64(UInt(bitPattern: $0))) } ?? "0x0"
        Trace.emit(.dmaFree, "\(name(dev)) dir=BIDIRECTIONAL dma_addr=\(hex(handle.rawValue)) size=\(size) virt_addr=\(virt) attrs=")
    }
}
