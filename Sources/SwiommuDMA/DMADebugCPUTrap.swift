// dma-debug's CPU trap (swiommu's extension; swiommu_dma_debug_trap_cpu_access()): catch the CPU's access
// itself when a driver touches a streaming buffer that a non-coherent device owns and may write
// (DMA_FROM_DEVICE, DMA_BIDIRECTIONAL), between the map (or a sync for the device) and the sync for the CPU
// (or the unmap). On the hardware that read returns stale cache lines, or that write is lost under the
// device's data; without the trap the model only notices at the next sync for the device
// (CPU_READ_UNSYNCED). The mechanism (mprotect, SIGSEGV, single-step) is the glue's cputrap.c; here: when to
// arm and release, and the report. Bit 61 of the hooks' mask, so that off it costs nothing.
import CKernel
import CSwiommuGlue
import SwiommuBase
import SwiommuMemory
import SwiommuPlatform

extension DMADebug {
    enum CPUTrap {
        /// Whether the trap is on (and dma-debug tracks mappings).
        static var on: Bool {
            @inline(__always) get { swiommu_glue_trace_get_mask() & (1 << 61) != 0 && active }
        }

        /// Switch the trap. 0, or -EOPNOTSUPP where there is no single-step (off x86-64 Linux).
        static func enable(_ enable: Bool) -> Int32 {
            if !enable {
                drain()
                swiommu_glue_trace_set_bit(61, false)
            }
            let ret = swiommu_glue_trap_install(enable)
            if ret == 0 && enable { swiommu_glue_trace_set_bit(61, true) }
            return ret
        }

        /// Whether a mapping is one the device may write behind the CPU's back.
        @inline(__always)
        static func applies(_ dev: UnsafeMutablePointer<Device>, _ direction: DMADirection) -> Bool {
            !dev.pointee.dma_coherent && (direction == .fromDevice || direction == .bidirectional)
        }

        /// Close the CPU's view of `size` bytes at physical `pa` until a release of (dev, key..<key+keyLength).
        static func arm(_ dev: UnsafeMutablePointer<Device>, pa: UInt64, size: UInt64, key: UInt64, keyLength: UInt64,
                        devAddr: UInt64, direction: DMADirection) {
            guard let layer = DMALayer.current,
                  let cpu = layer.memory.physical.virtualAddress(of: PhysicalAddress(pa)) else { return }
            let ret = swiommu_glue_trap_arm(UInt(bitPattern: cpu), size, UInt(bitPattern: dev), key, keyLength, devAddr, size,
                                            Int32(direction.rawValue))
            if ret != 0 {
                Kernel.log(.warning, "DMA-API: swiommu: CPU trap: cannot close the pages of \(DebugFormat.address(devAddr)) "
                           + "(\(Errno(rawValue: -ret).map { "\($0)" } ?? "\(ret)")): this mapping is not watched")
            }
        }

        /// Arm every CPU entry of a scatterlist, released by the list's address. A report names the entry:
        /// its own DMA address where it has a segment of its own (dma-direct maps entry for entry), else the
        /// list's first; and its length.
        static func armSG(_ dev: UnsafeMutablePointer<Device>, _ sgl: UnsafeMutablePointer<Scatterlist>, nents: Int32,
                          direction: DMADirection) {
            guard let layer = DMALayer.current else { return }
            let key = UInt64(UInt(bitPattern: sgl))
            let first = sgl.pointee.dma_address
            SG.forEach(sgl, nents) { s in
                guard let pa = SG.physicalAddress(s, layer.memory) else { return }
                arm(dev, pa: pa.rawValue, size: UInt64(s.pointee.length), key: key, keyLength: 1,
                    devAddr: s.pointee.dma_length != 0 ? s.pointee.dma_address : first, direction: direction)
            }
        }

        /// The CPU takes the buffer back (a sync for the CPU, an unmap) or the library is about to touch it
        /// (a sync for the device): open it, then report what the CPU did while it was closed.
        static func release(_ dev: UnsafeMutablePointer<Device>, key: UInt64) {
            _ = swiommu_glue_trap_release(UInt(bitPattern: dev), key)
            drain()
        }

        /// Report the accesses the handler recorded.
        static func drain() {
            var hits = [swiommu_glue_trap_hit](repeating: swiommu_glue_trap_hit(), count: 16)
            var dropped: UInt = 0
            while true {
                let n = hits.withUnsafeMutableBufferPointer {
                    Int(swiommu_glue_trap_drain($0.baseAddress, 16, &dropped))
                }
                for h in hits.prefix(n) { report(h) }
                if dropped != 0 {
                    Kernel.log(.warning, "DMA-API: swiommu: CPU trap: \(dropped) access(es) not recorded (table full)")
                    dropped = 0
                }
                if n < 16 { break }
            }
        }

        static func report(_ h: swiommu_glue_trap_hit) {
            let dev = UnsafeMutablePointer<Device>(bitPattern: h.dev)
            let direction = DMADirection(rawValue: UInt32(h.dir)).map { "\($0)" } ?? "\(h.dir)"
            DMADebug.report(dev, .cpuAccessDeviceOwned, address: h.dev_addr, size: h.size,
                            "swiommu: CPU \(h.write ? "write to" : "read of") DMA memory the device owns [device address="
                            + "\(DebugFormat.address(h.dev_addr))] [size=\(h.size) bytes] [mapped with \(direction)] "
                            + "[offset=\(h.offset)] [ip=0x\(String(h.ip, radix: 16))]: no dma_sync_*_for_cpu() or "
                            + "dma_unmap_*() first")
        }
    }
}

/// The library's own reads of a buffer the trap may have closed (dma-debug's checksums of the CPU's view).
@inline(__always)
func withCPUTrapSuspended<R>(_ body: () -> R) -> R {
    guard DMADebug.CPUTrap.on else { return body() }
    swiommu_glue_trap_suspend()
    defer { swiommu_glue_trap_resume() }
    return body()
}
